"""Deterministic embeddings for the mock provider: the same text always gives the same
vector, and texts that share words (or spellings) lie close (cosine similarity).

Feature hashing: each lower-cased word and each character trigram of it adds ±weight at
an index chosen by its hash; the vector is then scaled to length 1."""

from __future__ import annotations

import hashlib
import itertools
import math
import re

DEFAULT_DIMENSIONS = 256
_WORD = re.compile(r"\w+")


def _features(text: str) -> list[tuple[str, float]]:
    features: list[tuple[str, float]] = []
    for word in _WORD.findall(text.lower()):
        features.append(("w:" + word, 1.0))
        padded = f"#{word}#"
        features += [("t:" + padded[i:i + 3], 0.5) for i in range(len(padded) - 2)]
    return features or [("empty", 1.0)]


def _slot(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "little")
    return number % dimensions, 1.0 if number >> 63 else -1.0


def _normalised(vector: list[float]) -> list[float]:
    length = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / length for value in vector]


def embed_text(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    vector = [0.0] * dimensions
    for feature, weight in _features(text):
        index, sign = _slot(feature, dimensions)
        vector[index] += sign * weight
    return _normalised(vector)


def embed_tokens(tokens: list[int], dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """Token arrays: each token id and each pair of neighbours is a feature."""
    vector = [0.0] * dimensions
    features = [f"i:{token}" for token in tokens]
    features += [f"p:{a},{b}" for a, b in itertools.pairwise(tokens)]
    for feature in features:
        index, sign = _slot(feature, dimensions)
        vector[index] += sign
    return _normalised(vector)
