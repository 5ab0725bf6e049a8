"""`POST /v1/responses`: the Responses front (OpenResponses), plain, SSE and background.

Read in the order a request runs: authenticate, parse, prepare the context (chain,
references, window), then answer whole, stream, or hand the run to the background.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from relaygate.cache.controls import read_controls
from relaygate.errors import InvalidRequest
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.fronts.responses.background import run_background
from relaygate.fronts.responses.context import check_call_outputs
from relaygate.fronts.responses.engine import TERMINAL_EVENTS, ResponseRun, new_state, prepare
from relaygate.fronts.usage import source_header
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.prompts.responses import responses_prompt
from relaygate.services import Gateway
from relaygate.streaming.sse import DONE, event_frame
from relaygate.translate.responses.request import parse_request
from relaygate.translate.responses.response import TERMINAL, Status, encode_response
from relaygate.translate.responses.stream import EncoderInput, Event

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers)


class EventStream(StreamingResponse):
    """SSE whose source is closed as the response ends, a dropped client included, so
    its cleanup (storing what a dropped run produced) runs then, not when collected."""

    def __init__(self, frames: AsyncGenerator[bytes, None]) -> None:
        super().__init__(frames, media_type="text/event-stream", headers=SSE_HEADERS)
        self._frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._frames.aclose()


def sse_response(frames: AsyncGenerator[bytes, None]) -> StreamingResponse:
    return EventStream(frames)


async def sse_frames(
    events: AsyncGenerator[Event, None], gateway: Gateway
) -> AsyncGenerator[bytes, None]:
    """`event: <type>` + one `data:` line per event, then `data: [DONE]`; the source is
    closed however the stream ends (a dropped client included)."""
    async with aclosing(events):
        async for event in events:
            yield event_frame(str(event["type"]), event)
            if gateway.draining.is_set() and event["type"] not in TERMINAL_EVENTS:
                shutdown = {
                    "type": "error",
                    "sequence_number": int(event["sequence_number"]) + 1,
                    "error": {"type": "server_error", "code": "server_shutdown",
                              "message": "The gateway is shutting down.", "param": None},
                }
                yield event_frame("error", shutdown)
                break
    yield DONE


async def streamed(run: ResponseRun, canonical: AsyncIterator[EncoderInput]
                   ) -> AsyncGenerator[Event, None]:
    """A non-background run's events. A client that drops the stream stops the run (as
    OpenAI does: without `background`, generation lasts as long as the connection); a
    stored response keeps what was produced, as `incomplete` (reason `interrupted`).
    It is stored (in_progress) before its first event, so its id is retrievable at once."""
    await run.persist()
    try:
        async with aclosing(run.events(canonical)) as events:
            async for event in events:
                yield event
    finally:
        if run.state.status not in TERMINAL:
            run.encoder.interrupt("interrupted")
            with anyio.CancelScope(shield=True):  # the request's scope may be cancelled
                await run.persist()


async def follow_log(gateway: Gateway, response_id: str, after: int
                     ) -> AsyncGenerator[Event, None]:
    """A background run's events after sequence `after`, then live until it ends."""
    async for logged in gateway.event_log.follow(response_id, after):
        yield logged.data


async def create_response(request: Request) -> Response:
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    _, body = await read_json_object(request, gateway)
    prompt = await responses_prompt(gateway, body, principal, context.request_id)
    parsed = parse_request(body)
    options = parsed.options
    context.model = options.model
    if options.background and not options.store:
        raise InvalidRequest(
            "Background responses must be stored: set store to true.", param="store"
        )
    prepared = await prepare(gateway, principal.tenant, parsed, stream=True, principal=principal)
    check_call_outputs(prepared.prior, prepared.input_items)

    if options.background:  # its calls outlive this request: they are not on its log line
        origin = Origin(principal, context.request_id, Endpoint.RESPONSES, prompt=prompt)
        run = ResponseRun(gateway, origin, prepared, new_state(prepared, Status.QUEUED))
        queued = encode_response(run.state)
        leases = (await gateway.agents()).leases
        lost = await leases.claim(run.state.id, principal.tenant)  # held before it is stored
        try:
            await run.persist()  # retrievable before this call returns
            for event in run.encoder.start():  # logged before the task: resumable at once
                await gateway.event_log.append(run.state.id, event)
        except BaseException:
            await leases.release(run.state.id)
            raise
        gateway.background.start(run.state.id, run_background(run, leases, lost))
        if options.stream:
            return sse_response(sse_frames(follow_log(gateway, run.state.id, 0), gateway))
        return json_response(queued)

    origin = Origin(principal, context.request_id, Endpoint.RESPONSES, context, prompt=prompt,
                    cacheable=gateway.cache is not None,
                    cache_controls=read_controls(request.scope["headers"]))
    run = ResponseRun(gateway, origin, prepared, new_state(prepared))
    if not options.stream:
        prepared.call.stream = prepared.call.include_usage = prepared.call.top_logprobs is not None
        body = await run.complete()
        return json_response(body, headers=source_header(run.state.usage))
    canonical = await run.open_stream()
    return sse_response(sse_frames(streamed(run, canonical), gateway))
