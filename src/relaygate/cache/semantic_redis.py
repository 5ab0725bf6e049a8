"""The semantic index shared by several gateway instances through one Redis stream.

Every change is an event XADD-ed to one stream (`<prefix>log`, trimmed to about
`stream_max_entries`): `add` (namespace, key, text, float32 vector bytes, absolute expiry),
`discard` (key) and `clear` (namespace prefix). Each instance keeps a local mirror of the
tables and, before each search, reads what was added since its last stream id: one
pipelined round trip (XREAD, plus the stream's first id to notice that trimming passed
it, in which case it drops the mirror and replays the stream). Because a clear is an
event in the same ordered log, no instance can apply an older add after it.

Redis failures raise `SemanticStoreError` so the caller can fail open (treat as a miss).
The client must be created with `decode_responses=False` (vectors are bytes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from relaygate.cache.embedder import AsyncEmbedder
from relaygate.cache.semantic_guard import contradicts
from relaygate.cache.semantic_index import DEFAULT_THRESHOLD
from relaygate.cache.semantic_table import Guard, NamespacedTables
from relaygate.observability.logging import get_logger

__all__ = ["RedisSemanticIndex", "SemanticStoreError"]

_log = get_logger("relaygate.cache.semantic")

_BATCH = 1000


class SemanticStoreError(Exception):
    """The shared semantic index could not reach or read Redis (the original error is chained)."""


class RedisSemanticIndex:
    def __init__(
        self,
        redis: Redis,
        embedder: AsyncEmbedder,
        threshold: float = DEFAULT_THRESHOLD,
        prefix: str = "relaygate:semcache:",
        *,
        max_entries_per_namespace: int = 10_000,
        stream_max_entries: int = 100_000,
        guard: Guard | None = contradicts,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._embedder = embedder
        self._threshold = threshold
        self._stream = prefix + "log"
        self._stream_max = stream_max_entries
        self._guard = guard
        self._clock = clock
        self._capacity = max_entries_per_namespace
        self._tables = NamespacedTables(embedder.dimensions, max_entries_per_namespace)
        self._last_id = b"0-0"
        self._sync_lock = asyncio.Lock()

    async def nearest(self, namespace: str, text: str) -> tuple[str, float] | None:
        await self._sync()  # before the embedding, not beside it: it uses every core
        if self._tables.size(namespace) == 0:
            return None  # nothing to compare with: skip the embedding
        vectors = await self._embedder.aembed([text])
        return self._tables.nearest(
            namespace, vectors[0], text, self._threshold, self._clock(), self._guard
        )

    async def add(self, namespace: str, text: str, key: str, ttl_s: float) -> None:
        vector = (await self._embedder.aembed([text]))[0]
        await self._append(
            {
                b"op": b"add",
                b"ns": namespace.encode(),
                b"key": key.encode(),
                b"text": text.encode(),
                b"vec": vector.astype(np.float32).tobytes(),
                b"exp": repr(self._clock() + ttl_s).encode(),
            }
        )

    async def discard(self, key: str) -> None:
        await self._append({b"op": b"discard", b"key": key.encode()})

    async def clear(self, prefix: str = "") -> int:
        """Clear namespaces starting with `prefix` on every instance.

        Returns how many entries this instance's mirror held under the prefix.
        """
        await self._sync()
        await self._append({b"op": b"clear", b"prefix": prefix.encode()})
        async with self._sync_lock:
            dropped = self._tables.clear(prefix)
        await self._sync()
        return dropped

    async def _append(self, fields: dict[FieldT, EncodableT]) -> None:
        try:
            await self._redis.xadd(
                self._stream, fields, maxlen=self._stream_max, approximate=True
            )
        except (RedisError, OSError) as exc:
            raise SemanticStoreError(f"semantic cache: XADD to {self._stream} failed") from exc

    async def _sync(self) -> None:
        async with self._sync_lock:
            try:
                while await self._read_batch() == _BATCH:
                    pass
            except (RedisError, OSError) as exc:
                raise SemanticStoreError(
                    f"semantic cache: reading {self._stream} failed"
                ) from exc

    async def _read_batch(self) -> int:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xrange(self._stream, count=1)
            pipe.xread({self._stream: self._last_id}, count=_BATCH)
            first, read = await pipe.execute()
        if first and self._last_id != b"0-0" and _id(first[0][0]) > _id(self._last_id):
            _log.warning("semantic cache: the stream was trimmed past this mirror; replaying")
            self._tables = NamespacedTables(self._embedder.dimensions, self._capacity)
            self._last_id = b"0-0"
            return _BATCH  # read again from the start
        entries: list[tuple[bytes, dict[bytes, bytes]]] = read[0][1] if read else []
        for entry_id, fields in entries:
            self._apply(fields)
            self._last_id = entry_id
        return len(entries)

    def _apply(self, fields: dict[bytes, Any]) -> None:
        op = fields.get(b"op")
        if op == b"add":
            vector = np.frombuffer(fields[b"vec"], dtype=np.float32)
            if vector.shape != (self._embedder.dimensions,):
                _log.warning("semantic cache: skipped an entry of another size", dimensions=vector.size)
                return
            self._tables.add(
                fields[b"ns"].decode(),
                fields[b"text"].decode(),
                fields[b"key"].decode(),
                vector,
                float(fields[b"exp"]),
            )
        elif op == b"discard":
            self._tables.discard(fields[b"key"].decode())
        elif op == b"clear":
            self._tables.clear(fields[b"prefix"].decode())


def _id(raw: bytes) -> tuple[int, int]:
    millis, _, seq = raw.partition(b"-")
    return int(millis), int(seq)
