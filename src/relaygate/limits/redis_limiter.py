"""The Redis limiter: every instance on one Redis shares each limit (loaded only when
`storage.redis_url` is set). One script call per check and one per finish, the calls of
one event-loop turn sent as one pipeline (`script_batch.py`); slots are leases that expire
unless this instance renews them, so a crashed instance's come back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError

from relaygate.limits import scripts
from relaygate.limits.errors import StoreFailed
from relaygate.limits.meters import ALLOWED, WINDOWS, Kind, Meter, Verdict
from relaygate.limits.script_batch import ScriptBatch
from relaygate.observability.logging import get_logger

_log = get_logger("relaygate.limits")
_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class RedisLimiter:
    def __init__(self, redis: Any, prefix: str, lease_seconds: float) -> None:
        self._prefix = prefix
        self._lease_ms = max(int(lease_seconds * 1000), 1)
        self._renew_every = lease_seconds / 3
        self._check = ScriptBatch(redis, redis.register_script(scripts.CHECK))
        self._finish = ScriptBatch(redis, redis.register_script(scripts.FINISH))
        self._renew = redis.register_script(scripts.RENEW)
        self._held: dict[str, list[str]] = {}  # lease id → the slot sets it holds a place in
        self._renewing: asyncio.Task[None] | None = None
        self._finishing: set[asyncio.Task[None]] = set()

    async def check(self, meters: Sequence[Meter], lease: str) -> Verdict:
        keys: list[str] = []
        args: list[str | int] = [lease, self._lease_ms]
        slots: list[str] = []
        for meter in meters:
            key = self._prefix + meter.key
            keys.append(key)
            if meter.kind is Kind.MAX_CONCURRENT:
                args += ["c", meter.limit, meter.cost, 0, 0]
                slots.append(key)
            elif meter.kind is Kind.RPM:
                args += ["r", meter.limit, meter.cost, int(WINDOWS[Kind.RPM].seconds * 1000), 0]
            else:
                shape = WINDOWS[meter.kind]
                args += ["w", meter.limit, meter.cost, int(shape.bucket_seconds * 1000),
                         shape.buckets]
        try:
            reply = await self._check(keys, args)
        except _FAILURES as error:
            raise StoreFailed(str(error)) from error
        refused, retry_ms = int(reply[0]), int(reply[1])
        for index, meter in enumerate(meters):
            used, remaining, reset_ms, bucket = reply[2 + index * 4: 6 + index * 4]
            meter.used, meter.remaining, meter.bucket = int(used), int(remaining), int(bucket)
            meter.reset_seconds = max(int(reset_ms), 0) / 1000
        if refused:
            return Verdict(meters[refused - 1], None if retry_ms < 0 else max(retry_ms, 1) / 1000)
        if slots:
            self._held[lease] = slots
            if self._renewing is None:
                self._renewing = asyncio.create_task(self._renew_leases())
        return ALLOWED

    def finish(self, meters: Sequence[Meter], lease: str, tokens: int | None) -> None:
        """Settles the reservations and frees the slots, off the request path."""
        windows: list[str] = []
        args: list[str | int] = [lease, 0]
        for meter in meters:
            if tokens is not None and meter.kind in (Kind.TPM, Kind.TOKENS_PER_DAY):
                windows.append(self._prefix + meter.key)
                args += [str(meter.bucket), tokens - meter.cost]
        args[1] = len(windows)
        slots = self._held.pop(lease, [])
        if windows or slots:
            task = asyncio.create_task(self._send_finish([*windows, *slots], args))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)

    async def _send_finish(self, keys: list[str], args: list[str | int]) -> None:
        try:
            await self._finish(keys, args)
        except _FAILURES as error:  # the slots expire with their lease
            _log.warning("rate limit settle failed", error=str(error))

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self._renew_every)
            held = list(self._held.items())
            if not held:
                continue
            keys = [key for _, slots in held for key in slots]
            leases = [lease for lease, slots in held for _ in slots]
            try:
                await self._renew(keys=keys, args=[self._lease_ms, *leases])
            except _FAILURES as error:
                _log.warning("rate limit lease renewal failed", error=str(error))

    def close(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
