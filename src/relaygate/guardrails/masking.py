"""Placeholders for masked text (`<EMAIL_1>`), numbered per call, and putting the originals
back into the answer when a guard says `restore: true`."""

from __future__ import annotations

import re

from relaygate.guardrails.findings import Finding

PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)_(\d+)>")
LONGEST_PLACEHOLDER = 40  # characters a stream holds back to restore a split placeholder


class Masker:
    """One call's placeholders: the same original gets the same placeholder every time."""

    def __init__(self) -> None:
        self._by_original: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self.originals: dict[str, str] = {}  # placeholder → original, for restore
        self.restoring = False

    def placeholder(self, entity: str, original: str, restore: bool) -> str:
        key = (entity, original)
        found = self._by_original.get(key)
        if found is None:
            number = self._counts.get(entity, 0) + 1
            self._counts[entity] = number
            found = self._by_original[key] = f"<{entity}_{number}>"
        if restore:
            self.originals[found] = original
            self.restoring = True
        return found

    def apply(self, text: str, findings: list[Finding], restore: bool) -> str:
        """`text` with each finding replaced (findings in order, not overlapping)."""
        parts: list[str] = []
        last = 0
        for finding in findings:
            parts.append(text[last:finding.start])
            if finding.replacement is not None:
                parts.append(finding.replacement)
            else:
                parts.append(self.placeholder(finding.entity, text[finding.start:finding.end],
                                              restore))
            last = finding.end
        parts.append(text[last:])
        return "".join(parts)

    def restore(self, text: str) -> str:
        if not self.originals or "<" not in text:
            return text
        return PLACEHOLDER.sub(lambda match: self.originals.get(match.group(), match.group()),
                               text)


def unfinished_placeholder(text: str) -> int:
    """Where a placeholder may be starting at the end of `text` (len(text) when none)."""
    start = text.rfind("<", max(0, len(text) - LONGEST_PLACEHOLDER))
    if start == -1 or ">" in text[start:]:
        return len(text)
    return start if re.fullmatch(r"<[A-Z0-9_]*", text[start:]) else len(text)
