"""The limits step for a gateway, when some limit can apply: in-process, or on Redis
when `storage.redis_url` is set (that module loads only then)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from relaygate.limits.memory import MemoryLimiter
from relaygate.limits.metrics import LimitMetrics
from relaygate.limits.step import Limiter, LimitStep

if TYPE_CHECKING:
    from relaygate.services import Gateway

REDIS_LIMITER = "relaygate.limits.redis_limiter"


def limit_step(gateway: Gateway) -> LimitStep | None:
    """None when no limit can apply: no default, no model limits, no key with a grant."""
    settings = gateway.settings.limits
    if settings.default is None and not settings.models and not gateway.access.has_limits:
        return None
    limiter: Limiter
    if gateway.shared is not None:
        module = importlib.import_module(REDIS_LIMITER)
        limiter = module.RedisLimiter(gateway.shared.redis, settings.redis_prefix,
                                      settings.lease_seconds)
    else:
        limiter = MemoryLimiter()
    return LimitStep(settings, limiter, LimitMetrics(gateway.metrics.registry))
