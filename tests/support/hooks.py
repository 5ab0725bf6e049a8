"""Hooks for the hook tests, loaded by a real gateway from its YAML (docs/hooks.md).

`record` and `alert` append each outcome they see, as a JSON line, to the file named by
`$RELAYGATE_TEST_HOOK_LOG`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping

from relaygate.hooks import Call, Outcome, Refused


def resolve_key(headers: Mapping[str, str]) -> str | None:
    """`Bearer hook-acme` is tenant acme; `Bearer hook-refused` is refused; others: the keys."""
    authorization = headers.get("authorization", "")
    if authorization == "Bearer hook-acme":
        return "acme"
    if authorization == "Bearer hook-refused":
        raise Refused(401, "This key was refused by the deployment's hook.")
    return None


def _prompt_text(call: Call) -> str:
    return " ".join(message.text for message in call.canonical().messages)


async def check(call: Call) -> None:
    """Refuse prompts that say 'forbidden'; blow up on 'explode'; send `hooked` to echo."""
    await asyncio.sleep(0)  # an async hook
    text = _prompt_text(call)
    if "forbidden" in text:
        raise Refused(400, "Prompts about forbidden topics are refused by policy.",
                      code="policy_refusal")
    if "explode" in text:
        raise RuntimeError("hook bug holding sk-hook-secret-0000")
    if call.model == "hooked":
        call.model = "echo"


def _append(kind: str, outcome: Outcome) -> None:
    line = {"hook": kind, "request_id": outcome.request_id, "tenant": outcome.principal.tenant,
            "endpoint": outcome.endpoint, "model": outcome.model, "provider": outcome.provider,
            "status": outcome.status, "error": outcome.error,
            "output_tokens": outcome.usage.output_tokens if outcome.usage else None}
    with open(os.environ["RELAYGATE_TEST_HOOK_LOG"], "a") as log:
        log.write(json.dumps(line) + "\n")


def record(outcome: Outcome) -> None:
    _append("after_response", outcome)


async def alert(outcome: Outcome) -> None:
    _append("on_error", outcome)
