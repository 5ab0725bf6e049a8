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
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import pairwise

from relaygate.guardrails.findings import Finding
from relaygate.guardrails.injection_signals import ABOUT, CUES, QUOTED, SIGNALS
from relaygate.guardrails.injection_text import forms

_WORDS = re.compile(r"[^\W\d_]+|\d+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MAX_WORDS = 400  # a long text's words beyond these add no n-gram features


_GATED = [(name, frozenset(CUES[name]), pattern) for name, _, pattern in SIGNALS]
_PATTERNS = {name: pattern for name, _, pattern in SIGNALS}
_ALL_CUES = frozenset().union(*(cues for _, cues, _ in _GATED))


def _hits(text: str) -> set[str]:
    """The signals that fire in `text` (those none of whose cues are in it are not run)."""
    present = {cue for cue in _ALL_CUES if cue in text}
    return {name for name, cues, pattern in _GATED
            if not cues.isdisjoint(present) and pattern.search(text)}


def _hand_score(names: set[str]) -> float:
    return sum(weight for name, weight, _ in SIGNALS if name in names)


def _words(text: str) -> list[str]:
    words = _WORDS.findall(text)
    if _CJK.search(text):  # no spaces between CJK words: their character pairs instead
        words = [pair for word in words for pair in (
            [word[index:index + 2] for index in range(max(len(word) - 1, 1))]
            if _CJK.search(word) else [word])]
    return words[:_MAX_WORDS]


def _pairs(words: list[str]) -> set[str]:
    return set(map(" ".join, pairwise(words)))


def _signal_features(text: str) -> tuple[dict[str, float], list[str]]:
    """The features other than words and word pairs, and the text's words."""
    read = forms(text)
    found: dict[str, float] = {}
    hits = _hits(read.plain)
    if hits and ABOUT.search(read.plain):
        found["about"] = 1.0
        unquoted = QUOTED.sub(" ", read.plain)
        outside = {name for name in hits if _PATTERNS[name].search(unquoted)}
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
    return found, _words(read.plain)


def features(text: str) -> dict[str, float]:
    """The model's inputs for `text` (a feature absent is 0): what the training script reads."""
    found, words = _signal_features(text)
    found.update(dict.fromkeys([f"w:{word}" for word in words], 1.0))
    found.update(dict.fromkeys([f"b:{pair}" for pair in _pairs(words)], 1.0))
    return found


@dataclass(frozen=True)
class _Model:
    bias: float
    signals: dict[str, float]  # the features of `_signal_features`
    words: dict[str, float]
    pairs: dict[str, float]


@cache
def _model() -> _Model:
    data = json.loads(files("relaygate.guardrails").joinpath("injection_weights.json")
                      .read_text(encoding="utf-8"))
    weights: dict[str, float] = data["weights"]
    return _Model(float(data["bias"]),
                  {name: value for name, value in weights.items()
                   if not name.startswith(("w:", "b:"))},
                  {name[2:]: value for name, value in weights.items() if name.startswith("w:")},
                  {name[2:]: value for name, value in weights.items() if name.startswith("b:")})


def injection_score(text: str) -> float:
    """0 (benign) .. 1 (an injection attempt): `features(text)` through the model."""
    model = _model()
    found, words = _signal_features(text)
    logit = model.bias + sum(model.signals.get(name, 0.0) * value for name, value in found.items())
    logit += sum(model.words.get(word, 0.0) for word in set(words))
    logit += sum(model.pairs.get(pair, 0.0) for pair in _pairs(words))
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
