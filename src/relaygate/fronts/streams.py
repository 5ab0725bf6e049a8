"""Streamed responses of every front: SSE headers, and a response that closes its source."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

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
        """Send the frames while a watcher waits for the client to go; if it goes first,
        the watcher cancels the sending (this task), and the source is closed. Plain
        asyncio: a task group per stream cost more than the relaying it guards."""
        streamer = asyncio.current_task()
        assert streamer is not None
        gone = False

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            streamer.cancel()

        watcher = asyncio.create_task(watch())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            if not gone:
                raise  # cancelled from outside (shutdown), not by the watcher
            streamer.uncancel()
        finally:
            watcher.cancel()
            close = getattr(self._frames, "aclose", None)
            if close is not None:
                await close()
        if self.background is not None:
            await self.background()
