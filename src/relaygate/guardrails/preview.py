"""What a policy would do with a text (`GET /admin/guardrails/test`, `relaygate guard test`):
each guard's verdict, the kinds it found and the text as the upstream would see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relaygate.guardrails.errors import GuardrailBlocked
from relaygate.guardrails.guard import Guard, run_guards
from relaygate.guardrails.masking import Masker
from relaygate.guardrails.settings import GuardOn
from relaygate.pipeline.call import GuardHit


def preview(guards: Sequence[Guard], text: str, where: GuardOn = GuardOn.INPUT) -> dict[str, Any]:
    hits: list[GuardHit] = []
    masker = Masker()
    verdict, blocked_by, message = "allowed", None, None
    current = text
    for guard in guards:
        if not guard.looks_at(where):
            continue
        try:
            current = run_guards([guard], current, where, masker, hits.append)
        except GuardrailBlocked as blocked:
            verdict, blocked_by, message = "blocked", guard.name, blocked.message
            break
    if verdict == "allowed" and hits:
        verdict = "masked" if current != text else "flagged"
    return {
        "where": where.value,
        "verdict": verdict,
        "blocked_by": blocked_by,
        "message": message,
        "text": current if verdict != "blocked" else None,
        "hits": [{"guard": hit.guard, "action": hit.action, "entity": hit.entity}
                 for hit in hits],
        "guards": [guard.name for guard in guards if guard.looks_at(where)],
    }
