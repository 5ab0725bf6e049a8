"""Streamed responses of every front: SSE headers, and a response that closes its source."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ClosingStream(StreamingResponse):
    """A stream whose source is closed as the response ends, a dropped client included,
    so its cleanup (the outcome of the upstream call, a stored response) runs then, not
    when the generator is collected."""

    def __init__(
        self,
        frames: AsyncGenerator[bytes, None] | AsyncIterator[bytes],
        media_type: str = "text/event-stream",
        headers: dict[str, str] | None = None,
    ) -> None:
        sse = media_type == "text/event-stream"
        all_headers = {**SSE_HEADERS, **(headers or {})} if sse else headers
        super().__init__(frames, media_type=media_type, headers=all_headers)
        self._frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self._frames, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
