"""A request's own say over the cache: `Cache-Control: no-cache` (do not look up),
`no-store` (do not keep the answer), `x-relaygate-cache: off` (neither) and
`x-relaygate-cache-ttl: <seconds>` (keep it this long)."""

from __future__ import annotations

from dataclasses import dataclass

CACHE_HEADER = "x-relaygate-cache"  # request: `off`; response: hit | miss | semantic-hit
TTL_HEADER = "x-relaygate-cache-ttl"


@dataclass(frozen=True, slots=True)
class CacheControls:
    lookup: bool = True
    store: bool = True
    ttl_seconds: float | None = None


DEFAULT_CONTROLS = CacheControls()


CONTROL_HEADERS = frozenset({b"cache-control", b"x-relaygate-cache", b"x-relaygate-cache-ttl"})


def read_controls(headers: list[tuple[bytes, bytes]]) -> CacheControls:
    """The controls of raw ASGI request headers (lower-case names)."""
    lookup = store = True
    ttl: float | None = None
    for name, value in headers:
        if name == b"cache-control":
            directives = {part.strip().lower() for part in value.decode("latin-1").split(",")}
            if "no-cache" in directives:
                lookup = False
            if "no-store" in directives:
                store = False
        elif name == b"x-relaygate-cache":
            if value.strip().lower() == b"off":
                lookup = store = False
        elif name == b"x-relaygate-cache-ttl":
            ttl = positive_seconds(value)
    if lookup and store and ttl is None:
        return DEFAULT_CONTROLS
    return CacheControls(lookup, store, ttl)


def positive_seconds(value: bytes) -> float | None:
    """A header's seconds; None unless a positive number."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds > 0 else None
