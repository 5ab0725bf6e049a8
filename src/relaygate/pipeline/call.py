"""`Call` and `Answer`: what goes into the model-call pipeline and what comes out.

A front (or an agent feature) builds a `Call`; the steps read and may change it; the
dispatch step answers it with an `Answer`: whole or streaming, bytes (relayed) or
canonical (translated), and the route that really served it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from relaygate.cache.controls import DEFAULT_CONTROLS, CacheControls
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.context import RequestContext
from relaygate.prompts.ref import PromptRef
from relaygate.providers.base import RawReply, WireFormat
from relaygate.routing.registry import Route, RoutePlan

if TYPE_CHECKING:
    from relaygate.pipeline.estimate import WorstCase
    from relaygate.pipeline.outcome import Outcome
    from relaygate.pipeline.run_cost import RunCost
from relaygate.types import ModelCall, ModelResult, Prompt, StreamEvent, Usage


class Endpoint(StrEnum):
    """Which caller made the call: a model front or an agent feature."""

    CHAT = "chat.completions"
    MESSAGES = "messages"
    COUNT_TOKENS = "messages.count_tokens"
    GEMINI = "gemini.generate_content"
    RESPONSES = "responses"
    COMPACT = "responses.compact"
    SESSION = "session.turn"
    REALTIME = "realtime.turn"
    AGENT_STEP = "agent.step"
    HEALTH_CHECK = "routing.health_check"  # a deployment's background probe
    EMBEDDINGS = "embeddings"
    IMAGES = "images.generations"
    MODERATIONS = "moderations"
    GUARD_JUDGE = "guardrails.judge"  # an injection guard's judge model


@dataclass(frozen=True, slots=True)
class GuardHit:
    """A guardrail acted on a call (guardrails/): never the matched text, only its kind."""

    guard: str
    action: str  # block, mask, flag
    where: str  # input, output, tool_args, tool_results
    entity: str  # EMAIL, AWS_ACCESS_KEY, INJECTION…


Decoder = Callable[[dict[str, Any]], ModelCall]
"""A front's wire body → the canonical call."""

PromptReader = Callable[[dict[str, Any]], Prompt | None]
"""A front's wire body, checked as its `Decoder` checks it (the same error), → the prompt
the call's worst case is counted from; None when only decoding it tells."""


@dataclass(slots=True)
class TaskReply:
    """What a task's provider call gave: relayed bytes or the task's own result, its usage."""

    usage: Usage
    reply: RawReply | None = None  # relayed, in the front's format
    product: object | None = None  # the task's own result, for its front to encode

    @property
    def relayed(self) -> bool:
        return self.reply is not None


class Task(Protocol):
    """A model call that is not a chat (embeddings, images): it counts its own worst case
    and knows which provider method serves it (the dispatch keeps the attempt)."""

    output_tokens: int  # the most output it may produce (its worst case)

    def input_tokens(self, model: str) -> int: ...

    def texts(self) -> list[str]:
        """What the client sent to be read (input guards scan it)."""

    def with_texts(self, texts: list[str]) -> Task:
        """The same task on `texts` (masked by a guard), in the order `texts()` gave."""

    def check(self, provider: object) -> None:
        """Raise (400) when `provider` cannot serve this task, before any attempt."""

    async def send(
        self, provider: object, upstream_model: str, call: Call, relay: bool
    ) -> TaskReply:
        """One upstream call; `relay`: bytes may pass through (fast path on, no step asked
        for the content)."""


@dataclass(slots=True)
class Call:
    """One model call as the pipeline sees it.

    A model front gives its wire `body` (and `raw` bytes, for the relay) with the `front`
    format and a `decoder`; an agent feature gives the canonical `model_call` directly.
    """

    request_id: str
    principal: Principal
    endpoint: Endpoint
    model: str  # as the client named it
    stream: bool
    front: WireFormat | None = None  # the wire format of `body`; None: canonical only
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    decoder: Decoder | None = None
    reader: PromptReader | None = None  # the body's prompt alone (a relayed worst case)
    validated: bool = False  # `body` was checked (by `reader`): the relay need not again
    model_call: ModelCall | None = None
    headers: dict[str, str] = field(default_factory=dict)  # forwarded to the upstream
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    traceparent: str | None = None
    session_id: str | None = None
    plan: RoutePlan | None = None  # set by the route step (or pinned by the caller)
    needs_content: bool = False  # a step must see the content: translate, never relay
    context: RequestContext | None = None  # the HTTP request's record, when there is one
    observers: list[Callable[[Outcome], None]] = field(default_factory=list)  # this call's own
    worst: WorstCase | None = None  # its worst case, counted once (pipeline/estimate.py)
    timeout: float | None = None  # seconds; `x-relaygate-timeout` lowers a deployment's timeouts
    prompt: PromptRef | None = None  # a prompt template to fill it from (prompts/step.py)
    prompt_use: tuple[str, int] | None = None  # the template id and version that filled it
    task: Task | None = None  # not a chat: an embeddings or images request (no canonical call)
    guard_hits: list[GuardHit] | None = None  # what the guardrails did (None: nothing)
    cacheable: bool = False  # the response cache may answer it (a front's call, a Response)
    cache_controls: CacheControls = DEFAULT_CONTROLS  # the request's Cache-Control & co.

    def canonical(self) -> ModelCall:
        """The canonical call, decoded from the wire body on first use."""
        if self.model_call is None:
            if self.task is not None:
                raise ValueError(f"a {self.endpoint.value} call has no canonical chat call")
            if self.body is None or self.decoder is None:
                raise ValueError("a Call needs a model_call, or a body and its decoder")
            self.model_call = self.decoder(self.body)
        return self.model_call


@dataclass(slots=True)
class Answer:
    """What answered a call. Exactly one of the five payloads is set:

    - `result` / `events`: translated, whole or as canonical stream events;
    - `reply` / `chunks`: relayed bytes in the front's own format, whole or streamed;
    - `product`: a task's own result (embeddings, images), for its front to encode.

    Streams have already produced their first item (failures before it raised), and
    record their outcome when they end or are closed.
    """

    route: Route  # what served
    result: ModelResult | None = None
    events: AsyncIterator[StreamEvent] | None = None
    reply: RawReply | None = None
    chunks: AsyncIterator[bytes] | None = None
    usage: Usage | None = None  # of a whole relayed reply (a result carries its own)
    product: object | None = None  # a task's own result (embeddings, images), for its front

    @property
    def relayed(self) -> bool:
        return self.reply is not None or self.chunks is not None


@dataclass(frozen=True, slots=True)
class Origin:
    """Who started a run of model calls (a session turn, a Response, an agent loop): every
    call it makes carries these, so each is counted against the same principal."""

    principal: Principal
    request_id: str
    endpoint: Endpoint
    context: RequestContext | None = None  # the HTTP request's record, while it lasts
    session_id: str | None = None
    plan: RoutePlan | None = None  # pinned: every call of the run goes where the first went
    observers: tuple[Callable[[Outcome], None], ...] = ()  # e.g. a session turn's meter
    prompt: PromptRef | None = None  # every call of the run is filled from this template
    cacheable: bool = False  # its calls may be answered by the response cache
    cache_controls: CacheControls = DEFAULT_CONTROLS
    cost: RunCost | None = None  # the run's spend and cost limit (pipeline/run_cost.py)

    def call(self, model_call: ModelCall) -> Call:
        """A canonical call on behalf of this origin."""
        return Call(
            request_id=self.request_id,
            principal=self.principal,
            endpoint=self.endpoint,
            model=model_call.model,
            stream=model_call.stream,
            model_call=model_call,
            metadata=dict(model_call.metadata),
            session_id=self.session_id,
            plan=self.plan,
            prompt=self.prompt,
            context=self.context,
            cacheable=self.cacheable,
            cache_controls=self.cache_controls,
            observers=[
                *((self.context.record,) if self.context is not None else ()),
                *self.observers,
                *((self.cost.record,) if self.cost is not None else ()),
            ],
        )
