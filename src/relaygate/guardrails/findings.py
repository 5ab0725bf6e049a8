"""What a detector finds in a text: spans with a kind (never shown to clients)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Finding:
    """`text[start:end]` is of kind `entity` (EMAIL, AWS_ACCESS_KEY, INJECTION…)."""

    start: int
    end: int
    entity: str
    score: float = 1.0
    replacement: str | None = None  # a custom guard's own masked text for the span
    reason: str | None = None  # a custom guard's block reason (no matched text in it)


class Detector(Protocol):
    """Finds what a guard looks for. `spans`: its findings are spans that can be masked
    and scanned in a stream's rolling window; else it judges a text as a whole."""

    spans: bool

    def find(self, text: str) -> list[Finding]: ...


def without_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """The findings in text order, an overlapped one dropped (the earlier, longer wins)."""
    ordered = sorted(findings, key=lambda item: (item.start, -(item.end - item.start)))
    kept: list[Finding] = []
    for finding in ordered:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def spans_of(pattern: re.Pattern[str], text: str, entity: str, group: int = 0) -> list[Finding]:
    """Every match of `pattern` (or of its `group`) as a finding."""
    found = []
    for match in pattern.finditer(text):
        start, end = match.span(group)
        if start < end:
            found.append(Finding(start, end, entity))
    return found
