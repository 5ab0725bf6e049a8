"""The `regex` and `keywords` guards (deny lists, topics) and `max_input_tokens`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from relaygate.guardrails.findings import Finding, spans_of, without_overlaps


class RegexDetector:
    spans = True

    def __init__(self, patterns: Sequence[str], label: str = "REGEX") -> None:
        self._patterns = [re.compile(pattern) for pattern in patterns]
        self._label = label

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for pattern in self._patterns:
            found.extend(spans_of(pattern, text, self._label))
        return without_overlaps(found)


class KeywordDetector(RegexDetector):
    """Whole words or phrases, any case; spaces in a phrase match any whitespace."""

    def __init__(self, keywords: Sequence[str], label: str = "KEYWORD") -> None:
        words = sorted({word.strip() for word in keywords if word.strip()}, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
        super().__init__([rf"(?i)(?<!\w)(?:{alternatives})(?!\w)"], label)


class TokenLimitDetector:
    """Finds the whole text once it counts more than `max_tokens`."""

    spans = False

    def __init__(self, max_tokens: int, count: Callable[[str], int]) -> None:
        self.max_tokens = max_tokens
        self._count = count

    def find(self, text: str) -> list[Finding]:
        if len(text) <= self.max_tokens:  # a token is at least one character
            return []
        if self._count(text) > self.max_tokens:
            return [Finding(0, len(text), "MAX_INPUT_TOKENS")]
        return []
