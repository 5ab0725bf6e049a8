"""Budget counters in Redis: a hash per owner and period, reserved by one Lua script (so
the check and the increment are one atomic step on every instance), expiring a day after
the period ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from relaygate.budgets.counters import NANO_PER_USD, Amount, Caps, Reserved, Spent
from relaygate.budgets.periods import Window, current_window
from relaygate.control_settings import BudgetPeriod

KEPT_AFTER_PERIOD = timedelta(days=1)

RESERVE = """
local usd = tonumber(redis.call('HGET', KEYS[1], 'usd') or '0')
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or '0')
local add_usd, add_tokens = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_usd, max_tokens = tonumber(ARGV[3]), tonumber(ARGV[4])
if (max_usd >= 0 and usd + add_usd > max_usd) or
   (max_tokens >= 0 and tokens + add_tokens > max_tokens) then
  return {0, usd, tokens}
end
usd = redis.call('HINCRBY', KEYS[1], 'usd', ARGV[1])
tokens = redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
if tonumber(ARGV[5]) > 0 then redis.call('EXPIREAT', KEYS[1], ARGV[5]) end
return {1, usd, tokens}
"""

ADJUST = """
local usd = redis.call('HINCRBY', KEYS[1], 'usd', ARGV[1])
local tokens = redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('EXPIREAT', KEYS[1], ARGV[3]) end
return {usd, tokens}
"""


class RedisCounters:
    def __init__(self, redis: Any, prefix: str = "relaygate:budget:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._reserve = redis.register_script(RESERVE)
        self._adjust = redis.register_script(ADJUST)

    def _key(self, owner: str, window: Window) -> str:
        return f"{self._prefix}{owner}:{window.key}"

    async def reserve(self, owner: str, window: Window, amount: Amount,
                      caps: Caps | None) -> Reserved:
        max_usd = caps.max_nano_usd if caps is not None else None
        max_tokens = caps.max_tokens if caps is not None else None
        granted, usd, tokens = await self._reserve(
            keys=[self._key(owner, window)],
            args=[amount.nano_usd, amount.tokens, -1 if max_usd is None else max_usd,
                  -1 if max_tokens is None else max_tokens, _expiry(window)],
        )
        return Reserved(bool(granted), Amount(int(usd), int(tokens)))

    async def adjust(self, owner: str, window: Window, delta: Amount) -> Amount:
        usd, tokens = await self._adjust(
            keys=[self._key(owner, window)],
            args=[delta.nano_usd, delta.tokens, _expiry(window)],
        )
        return Amount(int(usd), int(tokens))

    async def claim_alert(self, owner: str, window: Window, threshold: int) -> bool:
        key = f"{self._prefix}alert:{owner}:{window.key}:{threshold}"
        expiry = _expiry(window)
        claimed = await self._redis.set(key, b"1", nx=True, exat=expiry or None)
        return bool(claimed)

    async def spent(self, owner: str, period: BudgetPeriod) -> Spent:
        window = current_window(period)
        usd, tokens = await self._redis.hmget(self._key(owner, window), ["usd", "tokens"])
        return Spent(int(usd or 0) / NANO_PER_USD, int(tokens or 0), window.end)

    async def close(self) -> None:
        """The Redis client is the gateway's (SharedState closes it)."""


def _expiry(window: Window) -> int:
    """When the counter may go: a day after its period ends (0: a total budget, never)."""
    if window.end is None:
        return 0
    return int((window.end + KEPT_AFTER_PERIOD).timestamp())

