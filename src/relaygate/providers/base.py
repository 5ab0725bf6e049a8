"""The provider interface: `send(call)` and `stream(call)`, plus an optional raw relay."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from relaygate.types import ModelCall, ModelResult, StreamEvent


class WireFormat(StrEnum):
    """Wire formats that a front and a provider can share, enabling the byte relay."""

    OPENAI_CHAT = "openai_chat"
    OPENAI_RESPONSES = "openai_responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


@dataclass(slots=True)
class RawReply:
    """An upstream reply relayed as bytes (the fast path)."""

    status: int
    body: bytes
    content_type: str = "application/json"


class Provider(Protocol):
    name: str

    async def send(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> ModelResult:
        """One call, the whole answer at once (`forwarded`: client headers for the upstream)."""

    def stream(
        self, call: ModelCall, upstream_model: str, forwarded: Mapping[str, str] | None = None
    ) -> AsyncIterator[StreamEvent]:
        """One call, the answer as canonical events."""

    def interrupt(self) -> None:
        """Shutdown: end the requests still waiting on the upstream (ShuttingDown)."""

    async def close(self) -> None:
        """Release connections."""


@runtime_checkable
class RawRelay(Protocol):
    """A provider that can pass a front's body through untouched when formats match."""

    relay_format: WireFormat

    async def relay(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> RawReply:
        """Send `body` as is; return the upstream's body as is (errors raise)."""

    def relay_stream(
        self, body: bytes, upstream_model: str, request_id: str, forwarded: Mapping[str, str]
    ) -> AsyncIterator[bytes]:
        """Send `body` as is; yield the upstream's stream bytes (errors before the first byte raise)."""
