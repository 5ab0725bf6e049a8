"""The `injection` guard: prompt-injection and jailbreak scoring, 0..1.

The text is read in its normalised form and its decoded payloads (`injection_text`); the
features are the named signals that fire (`injection_signals`), whether they fire only inside
quotes of a text that talks *about* injection, whether they fire in a hidden payload, and the
text's words and word pairs. A logistic model over those features (weights in
`injection_weights.json`, trained on the corpus's `dev` split by
`scripts/train_injection.py`) turns them into the score."""

from __future__ import annotations

import json
import math
import re
from functools import cache
from importlib.resources import files

from relaygate.guardrails.findings import Finding
from relaygate.guardrails.injection_signals import ABOUT, CUES, QUOTED, SIGNALS
from relaygate.guardrails.injection_text import forms

_WORDS = re.compile(r"[^\W\d_]+|\d+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MAX_WORDS = 400  # a long text's words beyond these add no n-gram features


_GATED = [(name, CUES[name], pattern) for name, _, pattern in SIGNALS]


def _hits(text: str) -> set[str]:
    """The signals that fire in `text` (those none of whose cues are in it are not run)."""
    return {name for name, cues, pattern in _GATED
            if any(cue in text for cue in cues) and pattern.search(text)}


def _hand_score(names: set[str]) -> float:
    return sum(weight for name, weight, _ in SIGNALS if name in names)


def _words(text: str) -> list[str]:
    words: list[str] = []
    for word in _WORDS.findall(text):
        if _CJK.search(word):  # no spaces between CJK words: their character pairs instead
            words += [word[index:index + 2] for index in range(max(len(word) - 1, 1))]
        else:
            words.append(word)
    return words[:_MAX_WORDS]


def features(text: str) -> dict[str, float]:
    """The model's inputs for `text` (a feature absent is 0)."""
    read = forms(text)
    found: dict[str, float] = {}
    hits = _hits(read.plain)
    if hits and ABOUT.search(read.plain):
        found["about"] = 1.0
        outside = _hits(QUOTED.sub(" ", read.plain))
        if len(outside) < len(hits):
            found["quoted_signal"] = 1.0
        hits = outside
    for name in hits:
        found[f"s:{name}"] = 1.0
    decoded = set().union(*(_hits(payload) for payload in read.decoded))
    for name in decoded - hits:
        found[f"s:{name}"] = 1.0
    if decoded:
        found["decoded_signal"] = 1.0
    found["hand"] = min(_hand_score(hits | decoded), 2.0)
    if (hits or decoded) and read.zero_width:
        found["zero_width_signal"] = 1.0
    if (hits or decoded) and read.folded:
        found["folded_signal"] = 1.0
    words = _words(read.plain)
    for word in words:
        found[f"w:{word}"] = 1.0
    for first, second in zip(words, words[1:], strict=False):
        found[f"b:{first} {second}"] = 1.0
    return found


@cache
def _model() -> tuple[float, dict[str, float]]:
    data = json.loads(files("relaygate.guardrails").joinpath("injection_weights.json")
                      .read_text(encoding="utf-8"))
    return float(data["bias"]), {name: float(weight) for name, weight in data["weights"].items()}


def injection_score(text: str) -> float:
    """0 (benign) .. 1 (an injection attempt)."""
    bias, weights = _model()
    logit = bias + sum(weights.get(name, 0.0) * value for name, value in features(text).items())
    return 1.0 / (1.0 + math.exp(-max(min(logit, 30.0), -30.0)))


class InjectionDetector:
    spans = False

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def find(self, text: str) -> list[Finding]:
        score = injection_score(text)
        if score >= self.threshold:
            return [Finding(0, len(text), "INJECTION", score)]
        return []
