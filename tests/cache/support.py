"""Helpers for the semantic cache tests: a fast fake embedder and a clock the test moves."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from relaygate.cache.embedder import normalise


class WordHashEmbedder:
    """A bag of words hashed into 64 dimensions: same words, same vector. Fast and offline."""

    dimensions = 64

    async def aembed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                rows[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
        return normalise(rows)


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
