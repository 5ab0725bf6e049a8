"""The `injection` guard: prompt-injection and jailbreak scoring, 0..1.

The text is read in its normalised form and its decoded payloads (`injection_text`); the
features are the named signals that fire (`injection_signals`), whether they fire only inside
quotes of a text that talks *about* injection, whether they fire in a hidden payload, and the
text's words, word pairs and words' character n-grams (encoded blobs left out). A logistic
model over those features (weights in `injection_weights.json`, trained on the corpus's
`dev` split by `scripts/train_injection.py`) turns them into the score."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import pairwise

from relaygate.guardrails.findings import Finding
from relaygate.guardrails.injection_signals import ABOUT, QUOTED, SIGNALS
from relaygate.guardrails.injection_text import forms

_WORDS = re.compile(r"[^\W\d_]+|\d+")
_BLOB = re.compile(r"\S{24,}")  # an encoded payload or a key: its pieces are not words
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_GRAM = 5
_MAX_WORDS = 400  # a long text's words beyond these add no n-gram features

_PATTERNS = {signal.name: signal.pattern for signal in SIGNALS}
_HAND_WEIGHTS = {signal.name: signal.weight for signal in SIGNALS}
_ALL_CUES = frozenset(cue for signal in SIGNALS for cue in signal.cues)


def linear(weights: Mapping[str, float], found: Mapping[str, float]) -> float:
    """The weighted sum of the features `found` (a name `weights` lacks counts 0): the one
    sum behind the hand score, the model's logit and the trainer's predictions."""
    return sum(weights[name] * found[name] for name in found.keys() & weights.keys())


def _hits(text: str) -> set[str]:
    """The signals that fire in `text` (those none of whose cues are in it are not run)."""
    present = {cue for cue in _ALL_CUES if cue in text}
    return {signal.name for signal in SIGNALS
            if not present.isdisjoint(signal.cues) and signal.pattern.search(text)}


def _words(text: str) -> list[str]:
    words = _WORDS.findall(_BLOB.sub(" ", text))
    if _CJK.search(text):  # no spaces between CJK words: their character pairs instead
        words = [pair for word in words for pair in (
            [word[index:index + 2] for index in range(max(len(word) - 1, 1))]
            if _CJK.search(word) else [word])]
    return words[:_MAX_WORDS]


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
    decoded = set().union(*(_hits(payload) for payload in read.decoded))
    for name in hits | decoded:
        found[f"s:{name}"] = 1.0
    if decoded:
        found["decoded_signal"] = 1.0
    found["hand"] = min(linear(_HAND_WEIGHTS, dict.fromkeys(hits | decoded, 1.0)), 2.0)
    if (hits or decoded) and read.zero_width:
        found["zero_width_signal"] = 1.0
    if (hits or decoded) and read.folded:
        found["folded_signal"] = 1.0
    return found, _words(read.plain)


def _grams(words: list[str]) -> set[str]:
    """The words' character n-grams (`_GRAM` long, a word's edges marked): stems shared by
    a word's forms and its misspellings ("instruct" in "instructed", "instrucciones")."""
    return {marked[index:index + _GRAM] for word in set(words) if len(word) > 2
            for marked in (f"<{word}>",) for index in range(len(marked) - _GRAM + 1)}


def features(text: str) -> dict[str, float]:
    """The model's inputs for `text` (a feature absent is 0): the signals' features, the
    words (`w:`), word pairs (`b:`) and words' character n-grams (`c:`) of its normalised
    form."""
    found, words = _signal_features(text)
    found.update(dict.fromkeys([f"c:{gram}" for gram in _grams(words)], 1.0))
    found.update(dict.fromkeys([f"w:{word}" for word in words], 1.0))
    found.update(dict.fromkeys([f"b:{first} {second}" for first, second in pairwise(words)],
                               1.0))
    return found


@dataclass(frozen=True)
class _Model:
    bias: float
    weights: dict[str, float]


@cache
def _model() -> _Model:
    data = json.loads(files("relaygate.guardrails").joinpath("injection_weights.json")
                      .read_text(encoding="utf-8"))
    return _Model(float(data["bias"]), data["weights"])


def injection_score(text: str) -> float:
    """0 (benign) .. 1 (an injection attempt): `features(text)` through the model."""
    model = _model()
    logit = model.bias + linear(model.weights, features(text))
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
