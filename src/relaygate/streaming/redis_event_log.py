"""The event log on Redis Streams, for several gateway instances sharing one Redis.

Each log is a stream whose entry ids are `0-<sequence>`, appended atomically by a small
Lua script so concurrent writers on different instances never collide; a closed log
ends with a `closed` entry. Logs expire `keep_seconds` after their last write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from redis.asyncio import Redis

from relaygate.streaming.event_log import LoggedEvent

_APPEND = """
local sequence = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '0-' .. sequence, 'd', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return sequence
"""
_CLOSED = b"__closed__"


BLOCK_MS = 2000


def _block_within_timeout(redis: Redis, block_ms: int) -> int:
    """An XREAD BLOCK that ends before the client's socket timeout (redis-py's default is
    5 s): one that does not makes every silence that long a TimeoutError, not an answer."""
    timeout = redis.connection_pool.connection_kwargs.get("socket_timeout")
    if timeout is None:
        return block_ms
    return max(1, min(block_ms, int(float(timeout) * 1000) // 2))


class RedisEventLog:
    """`EventLog` on Redis Streams; readers replay with XRANGE, then follow with XREAD BLOCK
    (an empty answer after a silence is a new wait, however long the silence lasts)."""

    def __init__(self, redis: Redis, keep_seconds: int = 3600, block_ms: int = BLOCK_MS,
                 prefix: str = "relaygate:log:") -> None:
        self._redis = redis
        self._keep = keep_seconds
        self._block_ms = _block_within_timeout(redis, block_ms)
        self._prefix = prefix
        self._append = redis.register_script(_APPEND)

    def _keys(self, log_id: str) -> tuple[str, str]:
        return f"{self._prefix}{log_id}", f"{self._prefix}{log_id}:seq"

    async def append(self, log_id: str, data: dict[str, Any]) -> int:
        sequence = await self._append(keys=self._keys(log_id), args=[orjson.dumps(data), self._keep])
        return int(sequence)

    async def close(self, log_id: str) -> None:
        await self._append(keys=self._keys(log_id), args=[_CLOSED, self._keep])

    async def exists(self, log_id: str) -> bool:
        return bool(await self._redis.exists(self._keys(log_id)[0]))

    async def last_sequence(self, log_id: str) -> int:
        value = await self._redis.get(self._keys(log_id)[1])
        return int(value) if value is not None else 0

    async def follow(
        self, log_id: str, after: int = 0, *, live: bool = True
    ) -> AsyncIterator[LoggedEvent]:
        stream, _ = self._keys(log_id)
        last_id = f"0-{max(after, 0)}"
        entries: Any = await self._redis.xrange(stream, min=f"({last_id}", max="+")
        while True:
            for entry_id, fields in entries:
                last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                payload = fields[b"d"]
                if payload == _CLOSED:
                    return
                yield LoggedEvent(int(last_id.split("-", 1)[1]), orjson.loads(payload))
            if not live:
                return
            answer: Any = await self._redis.xread({stream: last_id}, block=self._block_ms)
            entries = answer[0][1] if answer else []
