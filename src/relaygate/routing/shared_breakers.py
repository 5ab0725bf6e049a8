"""Breaker state shared by every instance through Redis (when `storage.redis_url` is set).

A breaker that opens here is written as a key that expires with its cooldown, and
announced on the bus; every other instance opens its own breaker of that deployment for
the same time, so none keeps sending to a dead deployment. A new instance reads the keys
at start. Nothing here runs on a single-instance gateway.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from relaygate.observability.logging import get_logger
from relaygate.routing.groups import Router
from relaygate.streaming.bus import Bus

_log = get_logger("relaygate.routing")


class SharedBreakers:
    def __init__(self, router: Router, bus: Bus, redis: Any, prefix: str) -> None:
        self._router = router
        self._bus = bus
        self._redis = redis
        self._prefix = prefix
        self._topic = f"breakers:{prefix}"
        self._instance = uuid.uuid4().hex
        self._pending: set[asyncio.Task[None]] = set()
        for deployment in router.deployments.values():
            deployment.breaker.on_open = self._announcer(deployment.id)

    def _announcer(self, deployment: str) -> Any:
        def opened(seconds: float) -> None:
            task = asyncio.get_running_loop().create_task(self._announce(deployment, seconds))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        return opened

    async def _announce(self, deployment: str, seconds: float) -> None:
        try:
            await self._redis.set(self._prefix + deployment, str(time.time() + seconds),
                                  px=max(1, int(seconds * 1000)))
            await self._bus.publish(self._topic, {"deployment": deployment, "seconds": seconds,
                                                  "from": self._instance})
        except Exception as exc:  # Redis down: this instance's breaker still works
            _log.warning("breaker state not shared", deployment=deployment, error=str(exc))

    async def run(self) -> None:
        """Open what other instances have open now, then follow their announcements."""
        try:
            await self._load()
        except Exception as exc:
            _log.warning("breaker state not loaded", error=str(exc))
        async with self._bus.subscribe(self._topic) as messages:
            async for message in messages:
                if message.get("from") == self._instance:
                    continue
                deployment = self._router.deployments.get(str(message.get("deployment")))
                if deployment is not None:
                    deployment.breaker.open(float(message.get("seconds", 0)), share=False)

    async def _load(self) -> None:
        ids = list(self._router.deployments)
        if not ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for deployment in ids:
                pipe.pttl(self._prefix + deployment)
            remaining = await pipe.execute()
        for deployment, ms in zip(ids, remaining, strict=True):
            if isinstance(ms, int) and ms > 0:
                self._router.deployments[deployment].breaker.open(ms / 1000, share=False)
