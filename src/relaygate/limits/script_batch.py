"""One Lua script's calls made in the same event-loop turn, sent to Redis as one pipeline:
under load one round trip serves many requests' checks; a lone call goes as it is."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import NoScriptError

_Queued = tuple[list[str], list[Any], "asyncio.Future[Any]"]


class ScriptBatch:
    def __init__(self, redis: Any, script: Any) -> None:
        self._redis = redis
        self._script = script  # a redis-py Script: loads itself again after NOSCRIPT
        self._queued: list[_Queued] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((keys, args, future))
        if len(self._queued) == 1:  # sent once the calls already due this turn have queued
            loop.call_soon(self._send)
        return await future

    def _send(self) -> None:
        batch, self._queued = self._queued, []
        task = asyncio.create_task(self._execute(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _execute(self, batch: list[_Queued]) -> None:
        try:
            if len(batch) == 1:
                keys, args, _ = batch[0]
                replies: list[Any] = [await self._script(keys=keys, args=args)]
            else:
                replies = await self._pipelined(batch)
        except asyncio.CancelledError:  # shutdown: so are the callers
            for _, _, future in batch:
                future.cancel()
            raise
        except Exception as error:  # every caller hears of it (StoreFailed upstream)
            replies = [error] * len(batch)
        for (_, _, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _pipelined(self, batch: list[_Queued]) -> list[Any]:
        pipe = self._redis.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        for index, reply in enumerate(replies):  # the script was flushed: load it, once
            if isinstance(reply, NoScriptError):
                keys, args, _ = batch[index]
                replies[index] = await self._script(keys=keys, args=args)
        return replies
