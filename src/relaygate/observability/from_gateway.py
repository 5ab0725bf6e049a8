"""One attribute of the app's gateway, for an ASGI middleware that sits outside the app's
routes: read from `app.state.gateway` at the first request that finds it there (the
lifespan sets it; a test app that never ran one has none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from starlette.types import Scope

if TYPE_CHECKING:
    from relaygate.services import Gateway

T = TypeVar("T")


class FromGateway(Generic[T]):
    __slots__ = ("_read", "_read_yet", "_value")

    def __init__(self, read: Callable[[Gateway], T]) -> None:
        self._read = read
        self._read_yet = False
        self._value: T | None = None

    def get(self, scope: Scope) -> T | None:
        """The attribute, or None while the app has no gateway."""
        if not self._read_yet:
            gateway = getattr(scope["app"].state, "gateway", None)
            if gateway is None:
                return None
            self._value, self._read_yet = self._read(gateway), True
        return self._value
