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
from relaygate.observability.tracing.current import Attributes, SpanHandle
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

    # --- spans for any code (current.span) ----------------------------------------------

    @contextlib.contextmanager
    def span(
        self, name: str, attributes: Attributes | None = None, *, kind: str = "internal",
        root: bool = False, link_current: bool = False,
    ) -> Iterator[SpanHandle | None]:
        if not root and _unsampled():  # in a dropped trace: nothing to record
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
        try:
            yield span
        except BaseException as exc:
            _failed(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    def outgoing_headers(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier)
        return carrier

    def extract(self, headers: Mapping[str, str]) -> otel_context.Context:
        return self.propagator.extract(headers)

    # --- the pipeline ---------------------------------------------------------------------

    def step(self, step: Step) -> Step:
        """`step` with a span from its start to its call of `next` (or to its answer or
        refusal): every step of `model_call_steps` gets one, without code of its own."""
        name = f"relaygate.step {step_name(step)}"
        tracer = self.tracer

        async def traced(call: Call, next: Next) -> Answer:
            if _unsampled():  # a trace not kept: no span, the step as it is
                return await step(call, next)
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

    def attempt(self, call: Call, route: Route, number: int) -> Sink:
        """Open the client span of one upstream attempt; the returned sink ends it with the
        attempt's outcome. The upstream request carries its `traceparent`."""
        if _unsampled():  # a trace not kept: the upstream still continues it (flag 00)
            carrier: dict[str, str] = {}
            self.propagator.inject(carrier)
            OUTGOING_TRACE.set(carrier)
            return _ignore
        operation = _OPERATIONS.get(call.endpoint, "chat")
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider_system(route),
            "gen_ai.system": provider_system(route),
            "gen_ai.request.model": call.model,
            "relaygate.provider": route.provider.name,
            "relaygate.attempt": number,
            "relaygate.endpoint": call.endpoint.value,
        }
        if route.deployment is not None:
            attributes["relaygate.deployment"] = route.deployment
        if call.session_id is not None:
            attributes["gen_ai.conversation.id"] = call.session_id
        if self.capture_content:
            attributes["gen_ai.input.messages"] = _content(call)
        span = self.tracer.start_span(f"{operation} {route.upstream_model}", kind=SpanKind.CLIENT,
                                      attributes=attributes)
        carrier = {}
        self.propagator.inject(carrier, trace.set_span_in_context(span))
        OUTGOING_TRACE.set(carrier)

        def finished(outcome: Outcome) -> None:
            span.set_attribute("gen_ai.response.model", outcome.upstream_model)
            span.set_attribute("relaygate.relayed", outcome.relayed)
            span.set_attribute("http.response.status_code", outcome.status)
            usage = outcome.usage
            if usage is not None:
                span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
            if outcome.ttft_s is not None:
                span.set_attribute("relaygate.time_to_first_token_s", outcome.ttft_s)
            if outcome.cost_usd is not None:
                span.set_attribute("relaygate.cost_usd", outcome.cost_usd)
            if outcome.error is not None:
                span.set_attribute("error.type", outcome.error)
                span.set_status(Status(StatusCode.ERROR, outcome.error))
            span.end()

        return finished

    async def close(self) -> None:
        import asyncio

        await asyncio.to_thread(self.provider.shutdown)


def _unsampled() -> bool:
    """Inside a trace the sampler dropped (its children are dropped too: ParentBased)."""
    current = trace.get_current_span()
    return not current.is_recording() and current.get_span_context().is_valid


def _ignore(outcome: Outcome) -> None:
    """The sink of an attempt in a dropped trace."""


def _failed(span: Any, exc: BaseException) -> None:
    kind = exc.code or exc.type if isinstance(exc, GatewayError) else type(exc).__name__
    span.set_attribute("error.type", str(kind))
    span.set_status(Status(StatusCode.ERROR, str(kind)))


def _content(call: Call) -> str:
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
