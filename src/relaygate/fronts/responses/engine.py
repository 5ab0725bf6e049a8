"""Running one response: the model call through the pipeline, the semantic
events, and the stored state. Used by HTTP (plain, SSE, background) and WebSocket.

Stored responses are written before their terminal event is sent, so a client that
sees `response.completed` can retrieve it at once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from relaygate.errors import GatewayError
from relaygate.fronts.responses.context import (
    Prepared,
    prepare_call,
    resolve_prior,
    resolve_references,
)
from relaygate.fronts.responses_hosted import hosted_events, hosted_toolbox
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Origin
from relaygate.services import Gateway
from relaygate.store.responses import Item, ResponseStore
from relaygate.translate.events import result_to_events
from relaygate.translate.responses.ids import new_id
from relaygate.translate.responses.request import ParsedRequest
from relaygate.translate.responses.response import ResponseState, Status, encode_response
from relaygate.translate.responses.stream import (
    EncoderInput,
    Event,
    ResponseStreamEncoder,
)

TERMINAL_EVENTS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)


async def prepare(
    gateway: Gateway,
    tenant: str,
    request: ParsedRequest,
    *,
    stream: bool,
    prior: list[Item] | None = None,
    principal: Principal | None = None,
) -> Prepared:
    """Resolve the chain (unless `prior` is given), references, route and window, and
    the gateway tools asked for as hosted tools (under the caller's policy)."""
    agents = await gateway.agents()
    store = ResponseStore(agents.database)
    if prior is None:
        prior = await resolve_prior(store, tenant, request)
    input_items = await resolve_references(store, tenant, request.items, prior)
    toolbox = hosted_toolbox(
        agents.tools, principal or Principal(tenant), request.options.hosted_tools
    )
    plan = gateway.registry.plan(request.options.model)  # resolved once for the run
    call = prepare_call(request, prior, input_items, plan.first, stream=stream)
    return Prepared(request, prior, input_items, plan, call, store, toolbox)


def new_state(prepared: Prepared, status: Status = Status.IN_PROGRESS) -> ResponseState:
    return ResponseState(
        id=new_id("resp"), created_at=int(time.time()), options=prepared.request.options,
        status=status,
    )


class ResponseRun:
    """One response being produced: its encoder, its state, where it is stored."""

    def __init__(
        self, gateway: Gateway, origin: Origin, prepared: Prepared, state: ResponseState
    ) -> None:
        self.gateway = gateway
        self.origin = dataclasses.replace(origin, plan=prepared.plan)  # its calls stay there
        self.tenant = origin.principal.tenant
        self.prepared = prepared
        self.state = state
        self.encoder = ResponseStreamEncoder(state)
        self._store = prepared.store
        self._saved_input = False

    @property
    def context_items(self) -> list[Item]:
        """The whole conversation after this response (for a connection-local cache)."""
        return [*self.prepared.prior, *self.prepared.input_items, *self.state.output]

    async def persist(self) -> None:
        if not self.state.options.store:
            return
        body = encode_response(self.state)
        inputs = None if self._saved_input else self.prepared.input_items
        await self._store.save(self.tenant, body, inputs)
        self._saved_input = True

    async def canonical(self) -> AsyncIterator[EncoderInput]:
        """The run's input for the encoder: the model's stream through the pipeline, or,
        with hosted gateway tools, the agent loop's steps."""
        if self.prepared.toolbox is not None:
            source = hosted_events(self.gateway, self.origin, self.prepared.toolbox,
                                   self.prepared.call)
        else:
            _, source = await self.gateway.pipeline.stream(self.origin.call(self.prepared.call))
        async with aclosing(source):  # type: ignore[type-var]
            async for event in source:
                yield event

    async def complete(self) -> dict[str, object]:
        """Non-streaming: the whole answer, stored, as the response object (gathered
        from a stream for hosted tools, and for logprobs, which only deltas carry)."""
        events: list[EncoderInput]
        if self.prepared.toolbox is not None or self.prepared.call.top_logprobs is not None:
            events = [event async for event in self.canonical()]
        else:
            call = self.origin.call(self.prepared.call)
            _, result = await self.gateway.pipeline.complete(call)
            events = list(result_to_events(result))
        self.encoder.start()
        for event in events:
            self.encoder.feed(event)
        self.encoder.finish()
        await self.persist()
        return encode_response(self.state)

    async def open_stream(self) -> AsyncIterator[EncoderInput]:
        """Start the provider stream and wait for its first event, so failures before
        any output still reach the client as an HTTP status."""
        events = self.canonical()
        first = await anext(events, None)

        async def joined() -> AsyncIterator[EncoderInput]:
            if first is not None:
                yield first
            async for event in events:
                yield event

        return joined()

    async def events(self, canonical: AsyncIterator[EncoderInput], *,
                     started: bool = False) -> AsyncGenerator[Event, None]:
        """The semantic events of the run; the state is stored before the last one."""
        if not started:
            for event in self.encoder.start():
                yield event
        closing: list[Event] = []
        try:
            async for item in canonical:
                produced = self.encoder.feed(item)
                if self.state.status is Status.FAILED:
                    closing = produced
                    break
                for event in produced:
                    yield event
            else:
                closing = self.encoder.finish()
        except GatewayError as error:
            closing = self.encoder.fail(error.code or error.type, error.message)
        await self.persist()
        for event in closing:
            yield event

