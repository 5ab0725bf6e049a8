"""State several gateway instances share through Redis: the event log and the bus.

Built only when `storage.redis_url` is set. The redis client (with the OpenTelemetry and
cryptography modules it imports) costs ~8 MiB and ~0.1 s at start-up, so a single-instance
gateway never loads it: the Redis implementations are imported by name, on purpose.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from relaygate.streaming.bus import Bus
from relaygate.streaming.event_log import EventLog

REDIS_BACKEND = "relaygate.streaming.redis_shared"


@dataclass(slots=True)
class SharedState:
    event_log: EventLog
    bus: Bus
    close: Callable[[], Awaitable[None]]
    redis: Any  # the redis.asyncio client (limits and budgets run their Lua scripts on it)


def connect_shared_state(url: str) -> SharedState:
    """The Redis-backed event log and bus for `url` (connections open on first use)."""
    connect: Callable[[str], SharedState] = importlib.import_module(REDIS_BACKEND).connect
    return connect(url)
