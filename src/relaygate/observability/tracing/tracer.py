"""`Tracing`: the OpenTelemetry SDK, loaded only when `telemetry.traces` is on.

It owns a tracer provider of its own (never the process-global one: two gateways in one
process keep their traces apart), a batch processor (a bounded queue: spans beyond it are
dropped, an export never blocks a request) and the W3C trace-context propagator. It makes
the spans of the pipeline: one per step (`step`), one client span per upstream attempt
(`attempt`), and whatever agent code asks for through `current.span`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from relaygate.errors import GatewayError
from relaygate.observability.settings import ResolvedTraces, TraceExporter
from relaygate.observability.tracing.current import SAMPLED, Attributes, SpanHandle
from relaygate.observability.tracing.propagation import OUTGOING_TRACE
from relaygate.pipeline.call import Answer, Call, Endpoint
from relaygate.pipeline.chain import Next, Step
from relaygate.pipeline.outcome import Outcome, Sink
from relaygate.routing.registry import Route

_KINDS = {
    "internal": SpanKind.INTERNAL, "client": SpanKind.CLIENT, "server": SpanKind.SERVER,
    "consumer": SpanKind.CONSUMER, "producer": SpanKind.PRODUCER,
}
CONTENT_CHARS = 16_384  # captured content on a span is cut here
# `gen_ai.operation.name` (and the span name's first word) of an attempt, by endpoint
_OPERATIONS = {Endpoint.EMBEDDINGS: "embeddings", Endpoint.IMAGES: "generate_content",
               Endpoint.GEMINI: "generate_content", Endpoint.MODERATIONS: "moderation"}


def build_exporter(settings: ResolvedTraces) -> SpanExporter:
    """The span exporter the settings name (the OTLP ones read their other OTEL_* too)."""
    headers = settings.headers or None
    if settings.exporter is TraceExporter.OTLP_HTTP:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.endpoint
        url = f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None
        return OTLPSpanExporter(endpoint=url, headers=headers)
    if settings.exporter is TraceExporter.OTLP_GRPC:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError as exc:
            raise GatewayError(
                "telemetry.traces.exporter otlp_grpc needs the extra: "
                "pip install 'relaygate[otlp-grpc]'"
            ) from exc
        exporter: SpanExporter = GrpcSpanExporter(endpoint=settings.endpoint, headers=headers)
        return exporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    return ConsoleSpanExporter()


def provider_system(route: Route) -> str:
    """`gen_ai.provider.name`: the provider's kind (openai, anthropic, gemini, mock…)."""
    name = type(route.provider).__name__.removesuffix("Provider").lower()
    return name or route.provider.name


def step_name(step: Step) -> str:
    """A step's span name: its `span_name`, else its function's or class's name."""
    named = getattr(step, "span_name", None)
    if isinstance(named, str):
        return named
    function = getattr(step, "__func__", step)
    name = getattr(function, "__name__", None) or type(step).__name__
    return str(name).removesuffix("Step").lower() or "step"


class Tracing:
    def __init__(self, settings: ResolvedTraces, exporter: SpanExporter | None = None) -> None:
        self.settings = settings
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        )
        self.provider.add_span_processor(BatchSpanProcessor(
            exporter or build_exporter(settings),
            max_queue_size=settings.max_queue_size,
            schedule_delay_millis=settings.batch_delay_ms,
        ))
        self.tracer = self.provider.get_tracer("relaygate")
        self.propagator = TraceContextTextMapPropagator()
        self.capture_content = settings.capture_content
        self._systems: dict[int, str] = {}  # id(provider) → gen_ai.provider.name

    # --- spans for any code (current.span) ----------------------------------------------

    @contextlib.contextmanager
    def span(
        self, name: str, attributes: Attributes | None = None, *, kind: str = "internal",
        root: bool = False, link_current: bool = False,
    ) -> Iterator[SpanHandle | None]:
        if not root and SAMPLED.get() is False:  # in a dropped trace: nothing to record
            yield None
            return
        links = None
        if link_current:
            here = trace.get_current_span().get_span_context()
            links = [Link(here)] if here.is_valid else None
        parent = otel_context.Context() if root else None
        span = self.tracer.start_span(name, parent, _KINDS.get(kind, SpanKind.INTERNAL),
                                      attributes, links)
        token = otel_context.attach(trace.set_span_in_context(span))
        kept = span.is_recording()
        sampled = SAMPLED.set(kept)
        # a dropped trace of its own: its upstream calls still continue it (flag 00)
        outgoing = None if kept else OUTGOING_TRACE.set(traceparent(span))
        try:
            yield span if kept else None
        except BaseException as exc:
            if kept:
                _failed(span, exc)
            raise
        finally:
            if outgoing is not None:
                OUTGOING_TRACE.reset(outgoing)
            SAMPLED.reset(sampled)
            otel_context.detach(token)
            span.end()

    def outgoing_headers(self) -> dict[str, str]:
        if SAMPLED.get() is False:  # a dropped trace is not in OpenTelemetry's context
            return dict(OUTGOING_TRACE.get() or {})
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier)
        return carrier

    def extract(self, headers: Mapping[str, str]) -> otel_context.Context:
        return self.propagator.extract(headers)

    # --- the pipeline ---------------------------------------------------------------------

    @staticmethod
    def recording() -> bool:
        """The current trace is kept: the pipeline runs its chain of traced steps (else the
        plain one: an unsampled call pays for no step span, not even a check per step)."""
        return SAMPLED.get() is True

    def step(self, step: Step) -> Step:
        """`step` with a span from its start to its call of `next` (or to its answer or
        refusal): every step of `model_call_steps` gets one, without code of its own, except
        one marked `traced = False` (it records onto the current span itself)."""
        if getattr(step, "traced", True) is False:
            return step
        name = f"relaygate.step {step_name(step)}"
        tracer = self.tracer

        async def traced(call: Call, next: Next) -> Answer:
            span = tracer.start_span(name)
            ended = False

            async def go(forward: Call) -> Answer:
                nonlocal ended
                if not ended:
                    ended = True
                    span.end()
                return await next(forward)

            try:
                return await step(call, go)
            except BaseException as exc:
                if not ended:
                    _failed(span, exc)
                raise
            finally:
                if not ended:
                    span.end()

        functools.update_wrapper(traced, step)
        return traced

    def attempt(self, call: Call, route: Route, number: int) -> Sink | None:
        """Open the client span of one upstream attempt; the returned sink ends it with the
        attempt's outcome. The upstream request carries its `traceparent`. In a dropped trace
        nothing (the `traceparent` with flag 00 is already set, by whoever dropped it)."""
        if SAMPLED.get() is False:
            return None
        operation = _OPERATIONS.get(call.endpoint, "chat")
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": self._system(route),
            "gen_ai.request.model": call.model,
            "relaygate.provider": route.provider.name,
            "relaygate.attempt": number,
        }
        if route.deployment is not None:
            attributes["relaygate.deployment"] = route.deployment
        if call.session_id is not None:
            attributes["gen_ai.conversation.id"] = call.session_id
        if self.capture_content:
            attributes["gen_ai.input.messages"] = input_content(call)
        span = self.tracer.start_span(f"{operation} {route.upstream_model}", kind=SpanKind.CLIENT,
                                      attributes=attributes)
        OUTGOING_TRACE.set(traceparent(span))

        def finished(outcome: Outcome) -> None:
            ended: dict[str, Any] = {
                "gen_ai.response.model": outcome.upstream_model,
                "relaygate.relayed": outcome.relayed,
                "http.response.status_code": outcome.status,
            }
            usage = outcome.usage
            if usage is not None:
                ended["gen_ai.usage.input_tokens"] = usage.input_tokens
                ended["gen_ai.usage.output_tokens"] = usage.output_tokens
            if outcome.ttft_s is not None:
                ended["relaygate.time_to_first_token_s"] = outcome.ttft_s
            if outcome.cost_usd is not None:
                ended["relaygate.cost_usd"] = outcome.cost_usd
            if outcome.error is not None:
                ended["error.type"] = outcome.error
                span.set_status(Status(StatusCode.ERROR, outcome.error))
            span.set_attributes(ended)
            span.end()

        return finished

    def _system(self, route: Route) -> str:
        """`provider_system(route)`, once per provider object."""
        system = self._systems.get(id(route.provider))
        if system is None:
            system = self._systems[id(route.provider)] = provider_system(route)
        return system

    def completion_capture(self) -> Step:
        """The step that puts the answer, after the output guards, on the current span."""
        from relaygate.observability.tracing.content import CompletionCapture

        return CompletionCapture()

    async def close(self) -> None:
        import asyncio

        await asyncio.to_thread(self.provider.shutdown)


def traceparent(span: trace.Span) -> dict[str, str]:
    """The W3C `traceparent` (and `tracestate`) that continues `span`'s trace upstream."""
    context = span.get_span_context()
    carrier = {"traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-"
                              f"{context.trace_flags:02x}"}
    if context.trace_state:
        carrier["tracestate"] = context.trace_state.to_header()
    return carrier


def _failed(span: Any, exc: BaseException) -> None:
    kind = exc.code or exc.type if isinstance(exc, GatewayError) else type(exc).__name__
    span.set_attribute("error.type", str(kind))
    span.set_status(Status(StatusCode.ERROR, str(kind)))


def input_content(call: Call) -> str:
    """The call's input for a span: the canonical messages, or the front's own body."""
    if call.model_call is not None:
        messages: Any = [
            {"role": str(message.role), "content": getattr(message, "content", None)}
            for message in call.model_call.messages
        ]
    elif call.body is not None:
        messages = call.body.get("messages", call.body.get("contents"))
    else:
        messages = None
    text = orjson.dumps(messages, default=str).decode()
    return text[:CONTENT_CHARS]
