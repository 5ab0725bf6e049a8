"""The dispatch step: the last of the pipeline, and the only code that calls a provider.

Per attempt on the call's route plan: relay the client's bytes when the provider speaks
the front's wire format and no step asked to see the content, translate through the
canonical call otherwise. Every upstream attempt records one `Outcome` (through its
`Attempt`), when it completes, fails, or its stream is closed early.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace

import orjson

from relaygate.errors import GatewayError, ShuttingDown, UpstreamError
from relaygate.pipeline.attempts import run_plan
from relaygate.pipeline.call import Answer, Call, Endpoint
from relaygate.pipeline.deadlines import Deadlines, paced, within
from relaygate.pipeline.outcome import Attempt, Sink, Sinks
from relaygate.providers.anthropic import AnthropicProvider
from relaygate.providers.base import Provider, RawRelay, RawReply, WireFormat
from relaygate.providers.upstream_pool import connect_timeout
from relaygate.relay.anthropic import AnthropicRelay
from relaygate.relay.base import RelayFormat, relay_stream
from relaygate.relay.gemini import GeminiRelay
from relaygate.relay.openai_chat import ChatRelay
from relaygate.routing.registry import Route
from relaygate.tokens.estimate import estimate_prompt
from relaygate.tokens.stream_counter import StreamCounter
from relaygate.types import ErrorEvent, ModelCall, StreamEvent, UsageEvent

AttemptTracer = Callable[[Call, Route, int], Sink | None]
"""Opens an attempt's span; the sink it returns ends it with the outcome (None: not traced)."""

RELAYS: Mapping[WireFormat, RelayFormat] = {
    WireFormat.OPENAI_CHAT: ChatRelay(),
    WireFormat.ANTHROPIC: AnthropicRelay(),
    WireFormat.GEMINI: GeminiRelay(),
}


class Dispatch:
    def __init__(
        self, sinks: Sinks, draining: asyncio.Event, fast_path: bool = True,
        traced: AttemptTracer | None = None,
    ) -> None:
        self._sinks = sinks
        self._draining = draining
        self._fast_path = fast_path
        self._traced = traced  # tracing on: a client span per attempt
        self.started = 0  # attempts begun (the in-flight gauge: started - outcomes recorded)

    async def __call__(self, call: Call) -> Answer:
        plan = call.plan
        assert plan is not None, "the route step runs before the dispatch"
        if plan.routing is not None and call.endpoint is not Endpoint.COUNT_TOKENS:
            return await run_plan(call, plan, self.attempt)  # deployments, retries, fallbacks
        route = plan.first
        if call.task is not None:
            return await self._task(call, route)
        if call.endpoint is Endpoint.COUNT_TOKENS:
            return await self._count_tokens(call, route)
        relay = self._relay_for(call, route.provider)
        if relay is not None:
            return await self._relay(call, route, relay)
        return await self._translate(call, route)

    def attempt(
        self,
        call: Call,
        route: Route,
        number: int,
        observer: Sink | None = None,
        deadlines: Deadlines | None = None,
    ) -> Awaitable[Answer]:
        """One upstream call of a routed plan, to await: relayed or translated, whichever
        `route`'s provider allows; `observer` hears its outcome first. A stream's connection
        is made before its first item is returned, so inside the deployment's connect
        timeout (without one, the call itself is returned: no coroutine of its own)."""
        if deadlines is not None and deadlines.connect is not None:
            return self._connecting(call, route, number, observer, deadlines)
        if call.task is not None:
            return self._task(call, route, number, observer, deadlines)
        relay = self._relay_for(call, route.provider)
        if relay is not None:
            return self._relay(call, route, relay, number, observer, deadlines)
        return self._translate(call, route, number, observer, deadlines)

    async def _connecting(
        self, call: Call, route: Route, number: int, observer: Sink | None,
        deadlines: Deadlines,
    ) -> Answer:
        with connect_timeout(deadlines.connect):
            # the rest of its deadlines, with the connect one now applied
            rest = replace(deadlines, connect=None)
            return await self.attempt(call, route, number, observer, rest)

    def _relay_for(self, call: Call, provider: Provider) -> RelayFormat | None:
        # an attribute test, not isinstance(provider, RawRelay): a protocol check costs ~9 µs
        front = call.front
        if not self._fast_path or call.needs_content or front is None:
            return None
        spoken: WireFormat | None = getattr(provider, "relay_format", None)
        return RELAYS[front] if spoken is front else None

    def _attempt(
        self, call: Call, route: Route, relayed: bool, number: int = 1,
        observer: Sink | None = None,
    ) -> Attempt:
        self.started += 1
        listeners = self._sinks.listeners
        if self._traced is not None:
            traced = self._traced(call, route, number)
            if traced is not None:
                listeners = [traced, *listeners]
        if observer is not None:
            listeners = [observer, *call.observers, *listeners]
        elif call.observers:
            listeners = [*call.observers, *listeners]
        return Attempt(call, route, listeners, relayed, number)

    # --- the byte relay ----------------------------------------------------------------

    async def _relay(
        self, call: Call, route: Route, relay: RelayFormat, number: int = 1,
        observer: Sink | None = None, deadlines: Deadlines | None = None,
    ) -> Answer:
        if call.model_call is None and not call.validated:  # else checked already
            relay.validate(call)
        provider: RawRelay = route.provider  # type: ignore[assignment]
        body = relay.request(call, route)
        attempt = self._attempt(call, route, True, number, observer)
        model = route.upstream_model
        try:
            if not call.stream:
                replied = provider.relay(body, model, call.request_id, call.headers)
                if deadlines is None:
                    reply = await replied
                else:
                    reply = await within(replied, deadlines.whole, route.provider.name)
                reply = relay.whole(call, route, reply, attempt)
                attempt.finish()
                return Answer(route, reply=reply, usage=attempt.usage)
            chunks = provider.relay_stream(body, model, call.request_id, call.headers)
            if deadlines is None:
                first = await anext(chunks, None)
            else:
                first = await within(anext(chunks, None), deadlines.first_byte, route.provider.name)
                if deadlines.paces_stream:
                    chunks = paced(chunks, deadlines, route.provider.name, attempt.started)
            if first is None:
                raise UpstreamError(
                    f"The upstream provider '{route.provider.name}' ended the stream without "
                    "an answer."
                )
        except GatewayError as error:
            attempt.fail(error)
            raise
        except BaseException:
            attempt.dropped()
            raise
        attempt.first_item()
        sniffer = relay.sniffer(call, route)
        stream = relay_stream(first, chunks, sniffer, relay, attempt, self._draining)
        return Answer(route, chunks=stream)

    # --- translation through the canonical call ----------------------------------------

    async def _translate(
        self, call: Call, route: Route, number: int = 1, observer: Sink | None = None,
        deadlines: Deadlines | None = None,
    ) -> Answer:
        model_call = call.canonical()
        if call.front is not None and getattr(route.provider, "relay_format", None) is not call.front:
            model_call.extra = {}  # one format's vendor fields mean nothing to another's
        attempt = self._attempt(call, route, False, number, observer)
        provider, forwarded = route.provider, call.headers or None
        if not call.stream:
            try:
                sent = provider.send(model_call, route.upstream_model, forwarded)
                if deadlines is None:
                    result = await sent
                else:
                    result = await within(sent, deadlines.whole, provider.name)
            except GatewayError as error:
                attempt.fail(error)
                raise
            except BaseException:
                attempt.dropped()
                raise
            attempt.usage = result.usage
            attempt.finish()
            return Answer(route, result=result)
        events = provider.stream(model_call, route.upstream_model, forwarded)
        first_byte = None
        if deadlines is not None:
            first_byte = deadlines.first_byte
            if deadlines.paces_stream:
                events = paced(events, deadlines, provider.name, attempt.started)
        measured = self._measured(events, model_call, route, attempt, first_byte)
        await anext(measured)  # the first event has arrived, or its failure raised
        return Answer(route, events=measured)  # type: ignore[arg-type]  # no more Nones

    async def _measured(
        self, events: AsyncIterator[StreamEvent], call: ModelCall, route: Route, attempt: Attempt,
        first_byte: float | None = None,
    ) -> AsyncGenerator[StreamEvent | None, None]:
        """The provider's events, measured; yields None once the first has arrived."""
        counter = StreamCounter(call, route.upstream_model)
        try:
            if first_byte is None:
                first = await anext(events, None)
            else:
                first = await within(anext(events, None), first_byte, route.provider.name)
            if first is None:
                raise UpstreamError(
                    f"The upstream provider '{route.provider.name}' ended the stream without "
                    "an answer."
                )
            attempt.first_item()
            yield None
            event: StreamEvent | None = first
            while event is not None:
                counter.feed(event)
                if isinstance(event, UsageEvent):
                    attempt.usage = event.usage
                elif isinstance(event, ErrorEvent):
                    attempt.usage = attempt.usage or counter.estimate()
                    attempt.finish(event.status, event.type)
                yield event
                if self._draining.is_set():
                    raise ShuttingDown("The gateway is shutting down.")
                event = await anext(events, None)
            attempt.finish()
        except GatewayError as error:
            attempt.usage = attempt.usage or counter.estimate()
            attempt.fail(error)
            raise
        finally:
            if not attempt.done:
                attempt.usage = attempt.usage or counter.estimate()
                attempt.dropped()

    # --- a task: embeddings, images -------------------------------------------------

    async def _task(
        self, call: Call, route: Route, number: int = 1, observer: Sink | None = None,
        deadlines: Deadlines | None = None,
    ) -> Answer:
        """One upstream call of a task (it picks the provider's method), measured."""
        assert call.task is not None
        call.task.check(route.provider)
        relay = self._fast_path and not call.needs_content
        attempt = self._attempt(call, route, relay, number, observer)
        try:
            sent = call.task.send(route.provider, route.upstream_model, call, relay)
            if deadlines is None:
                done = await sent
            else:
                done = await within(sent, deadlines.whole, route.provider.name)
        except GatewayError as error:
            attempt.fail(error)
            raise
        except BaseException:
            attempt.dropped()
            raise
        attempt.relayed = done.relayed
        attempt.usage = done.usage
        attempt.finish()
        return Answer(route, reply=done.reply, usage=done.usage, product=done.product)

    # --- count_tokens ------------------------------------------------------------------

    async def _count_tokens(self, call: Call, route: Route) -> Answer:
        """Anthropic's exact count from an Anthropic upstream; our estimate otherwise."""
        provider = route.provider
        model_call = call.canonical()  # validates, whichever way the count is made
        if not isinstance(provider, AnthropicProvider):
            tokens = estimate_prompt(model_call.messages, model_call.tools, route.upstream_model)
            return Answer(route, reply=_count_reply(tokens))
        assert call.body is not None
        body = orjson.dumps({**call.body, "model": route.upstream_model})
        attempt = self._attempt(call, route, relayed=True)
        try:
            tokens = await provider.count_tokens(body, call.request_id, call.headers)
        except GatewayError as error:
            attempt.fail(error)
            raise
        attempt.finish()
        return Answer(route, reply=_count_reply(tokens))


def _count_reply(tokens: int) -> RawReply:
    return RawReply(200, orjson.dumps({"input_tokens": tokens}))
