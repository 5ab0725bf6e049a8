"""`LoadingCache`: values read from a store once and kept in process, for the hot path.

Concurrent misses for one key share one load. `clear()` (a change was made) drops what is
kept, and a load begun before it is handed to its callers but not kept, so a change is
never hidden behind an older read. How long an entry stays fresh is the caller's: its
values carry what it needs (when they were read, when they expire)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LoadingCache(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        self.entries: dict[K, V] = {}  # read by the hot path directly: one dict lookup
        self._max_entries = max_entries
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._generation = 0  # bumped by clear()

    def clear(self) -> None:
        self._generation += 1
        self.entries.clear()

    async def load(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        """`load(key)`, once for every concurrent caller; kept unless cleared meanwhile."""
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        generation = self._generation
        try:
            value = await load(key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._pending[key]
        future.set_result(value)
        if generation == self._generation:
            if len(self.entries) >= self._max_entries:
                self.entries.clear()
            self.entries[key] = value
        return value
