"""A named guard (its settings and detector) and running a list of them over a text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from relaygate.guardrails.errors import GuardrailBlocked
from relaygate.guardrails.findings import Detector, Finding
from relaygate.guardrails.masking import Masker
from relaygate.guardrails.settings import GuardAction, GuardOn, GuardSettings
from relaygate.pipeline.call import GuardHit

Record = Callable[[GuardHit], None]


@dataclass(frozen=True, slots=True)
class Guard:
    name: str
    settings: GuardSettings
    detector: Detector

    @property
    def action(self) -> GuardAction:
        return self.settings.action

    def looks_at(self, where: GuardOn) -> bool:
        return where in self.settings.on


def run_guards(guards: Sequence[Guard], text: str, where: GuardOn, masker: Masker,
               record: Record) -> str:
    """`text` after every guard, in order: masked where one masks; GuardrailBlocked when
    one blocks; each hit recorded (its kind, never the text)."""
    for guard in guards:
        findings = guard.detector.find(text)
        if findings:
            text = act(guard, text, findings, where, masker, record)
    return text


def act(guard: Guard, text: str, findings: list[Finding], where: GuardOn, masker: Masker,
        record: Record) -> str:
    """What `guard` does with its `findings` in `text`: the text to go on with, or raise."""
    kinds = sorted({finding.entity for finding in findings})
    action = guard.action
    reason = next((finding.reason for finding in findings if finding.reason), None)
    if action is GuardAction.MASK and reason is not None:
        action = GuardAction.BLOCK  # a custom guard's Block is a block
    for kind in kinds:
        record(GuardHit(guard.name, action.value, where.value, kind))
    if action is GuardAction.BLOCK:
        raise GuardrailBlocked(guard.name, where.value, kinds, reason)
    if action is GuardAction.MASK:
        return masker.apply(text, findings, guard.settings.restore)
    return text
