"""The leaf steps of a workflow run, on the gateway's services: `model` (one pipeline call
with the run's key), `agent` (a named agent's run: a session), `tool` (one gateway tool)."""

from __future__ import annotations

import asyncio
from typing import Any

from relaygate.agents.named.runs import prepare_run
from relaygate.agents.services import AgentServices
from relaygate.agents.workflows.engine import RunStep
from relaygate.errors import GatewayError, InvalidRequest
from relaygate.pipeline.call import Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.types import Message, ModelCall, Role, TextPart


def leaf_runner(services: AgentServices, pipeline: Pipeline, origin: Origin) -> RunStep:
    async def run(kind: str, fields: dict[str, Any], item: Any) -> Any:
        text = str(fields.get("input", "" if item is None else item))
        if kind == "model":
            call = ModelCall(model=str(fields.get("model")),
                             messages=[Message(Role.USER, [TextPart(text)])])
            _, result = await pipeline.complete(origin.call(call))
            return result.message.text
        if kind == "agent":
            prepared = await prepare_run(services.agents, services.sessions, origin,
                                         str(fields.get("agent")), text, stream=False)
            turn = await asyncio.shield(services.sessions.start_turn(prepared))
            return _text(turn.messages[-1].content)
        if kind == "tool":
            arguments = fields.get("arguments") or {}
            if not isinstance(arguments, dict):
                raise InvalidRequest("A tool step's 'arguments' must be an object.")
            try:
                return await services.tools.invoke(origin.principal, str(fields.get("tool")),
                                                   arguments)
            except GatewayError:
                raise
            except Exception as exc:  # a tool's failure fails its step
                raise GatewayError(f"The tool failed: {exc}", code="tool_failed") from exc
        raise InvalidRequest(f"Unknown step type {kind!r}.", code="unknown_step_type")

    return run


def _text(content: list[dict[str, Any]]) -> str:
    return "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
