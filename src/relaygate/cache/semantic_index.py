"""The in-process semantic index: a question's text, by meaning, to the exact key of an answer.

Entries live in namespaces (the caller builds them as "<tenant>\\x1f<model>\\x1f<context
hash>"), one matrix each. `nearest` embeds the question, takes the most similar live
entry whose cosine is at least `threshold`, and lets the guard veto a candidate whose
numbers or names differ (then the next best is tried).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from relaygate.cache.embedder import AsyncEmbedder
from relaygate.cache.semantic_guard import contradicts
from relaygate.cache.semantic_table import Guard, NamespacedTables

__all__ = ["DEFAULT_THRESHOLD", "LocalSemanticIndex"]

DEFAULT_THRESHOLD = 0.965
"""Chosen on the tune half of tests/cache/semantic_pairs.jsonl for BundledE5Embedder + guard."""


class LocalSemanticIndex:
    def __init__(
        self,
        embedder: AsyncEmbedder,
        threshold: float = DEFAULT_THRESHOLD,
        max_entries_per_namespace: int = 10_000,
        *,
        guard: Guard | None = contradicts,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._embedder = embedder
        self._threshold = threshold
        self._guard = guard
        self._clock = clock
        self._tables = NamespacedTables(embedder.dimensions, max_entries_per_namespace)

    async def nearest(self, namespace: str, text: str) -> tuple[str, float] | None:
        if self._tables.size(namespace) == 0:
            return None  # nothing to compare with: skip the embedding
        vector = (await self._embedder.aembed([text]))[0]
        return self._tables.nearest(
            namespace, vector, text, self._threshold, self._clock(), self._guard
        )

    async def add(self, namespace: str, text: str, key: str, ttl_s: float) -> None:
        vector = (await self._embedder.aembed([text]))[0]
        self._tables.add(namespace, text, key, vector, self._clock() + ttl_s)

    async def discard(self, key: str) -> None:
        self._tables.discard(key)

    async def clear(self, prefix: str = "") -> int:
        """Drop every namespace starting with `prefix`; returns how many entries went."""
        return self._tables.clear(prefix)
