"""The cache step: look a call up (exact, then by meaning), answer a hit without the
upstream, and keep a complete answer of a miss.

It runs after the route, limits, budget and guard steps (`app.model_call_steps`): a hit
still counts as a request against the key's limits, costs nothing against its budget (its
outcome carries no upstream usage), was checked by the input guards and passes the output
guards again. A whole miss stays on the byte relay: its reply is kept as it is (the same
front's next whole call gets those bytes; another front, or a stream, the canonical
result decoded from them). A streamed miss is translated and kept as the result its events make.
A hit is recorded as an outcome marked `cache_hit`, with what the original call cost as
`saved_usd` (the ledger keeps it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from prometheus_client import Counter

from relaygate.cache.controls import CACHE_HEADER, CacheControls
from relaygate.cache.entry import Entry, Unreadable, dump, load
from relaygate.cache.key import SEPARATOR, CacheKey, deterministic, exact_key, semantic_parts
from relaygate.cache.policy import Policies, Policy
from relaygate.cache.settings import CacheMode, CacheSettings
from relaygate.cache.stores import CacheStore, CacheStoreError
from relaygate.observability.logging import get_logger
from relaygate.pipeline.background import TaskSet
from relaygate.pipeline.call import Answer, Call, Endpoint
from relaygate.pipeline.chain import Next
from relaygate.pipeline.outcome import Outcome, Sink, emit
from relaygate.providers.base import RawReply, WireFormat
from relaygate.translate.events import MessageAssembler, result_to_events
from relaygate.translate.replies import finish_of_reply, result_of_reply
from relaygate.types import (
    ErrorEvent,
    FinishReason,
    ModelResult,
    StreamEvent,
    Usage,
)

_log = get_logger("relaygate.cache")

_CACHED = frozenset({  # images are not the same twice; a count of tokens is not an answer
    Endpoint.CHAT, Endpoint.MESSAGES, Endpoint.GEMINI, Endpoint.RESPONSES, Endpoint.EMBEDDINGS,
})
_NOT_KEPT = (FinishReason.LENGTH, FinishReason.CONTENT_FILTER, FinishReason.ERROR)  # incomplete


class CacheCounters:
    """The step's own counters (hits and saved tokens are counted from the outcomes)."""

    def __init__(self, misses: Counter, stored_bytes: Counter, errors: Counter) -> None:
        self._misses = misses
        self._misses_by_model: dict[str, Counter] = {}  # `labels()` costs a lock each time
        self.stored_bytes = stored_bytes
        self.errors = errors

    def missed(self, model: str) -> None:
        child = self._misses_by_model.get(model)
        if child is None:
            if len(self._misses_by_model) > 10_000:
                self._misses_by_model.clear()
            child = self._misses_by_model[model] = self._misses.labels(model)
        child.inc()


class SemanticLookup(Protocol):
    """What the step needs of a semantic index (cache/semantic_index.py)."""

    async def nearest(self, namespace: str, text: str) -> tuple[str, float] | None: ...

    async def add(self, namespace: str, text: str, key: str, ttl_s: float) -> None: ...

    async def discard(self, key: str) -> None: ...

    async def clear(self, prefix: str = "") -> int: ...


class CacheStep:
    def __init__(
        self, settings: CacheSettings, store: CacheStore, listeners: Sequence[Sink],
        counters: CacheCounters, semantic: SemanticLookup | None = None,
    ) -> None:
        self.policies = Policies(settings)
        self.store = store
        self.semantic = semantic
        self._listeners = listeners  # the gateway's sinks (the list grows as they are added)
        self._counters = counters
        self._max_entry_bytes = settings.max_entry_bytes
        self._max_meaning_chars = settings.semantic.max_chars
        self._store_down = False
        self._writing = TaskSet()  # answers being stored and indexed

    async def __call__(self, call: Call, next: Next) -> Answer:
        if not call.cacheable or call.endpoint not in _CACHED:
            return await next(call)
        policy = self.policies.for_call(call.model, call.principal)
        controls = call.cache_controls
        if policy is None or not (controls.lookup or controls.store):
            return await next(call)
        if call.task is None and policy.mode is CacheMode.DETERMINISTIC \
                and not deterministic(call):
            return await next(call)
        started = time.perf_counter()
        key = exact_key(call, policy.namespace)
        meaning: tuple[str, str] | None = None
        if controls.lookup:
            data = await self._get(key.text)
            score: float | None = None
            if data is None:
                meaning = self._meaning(call, policy)  # only past an exact miss
                if meaning is not None:
                    data, score = await self._nearest(meaning)
            entry = _loaded(data)
            answer = self._hit(call, entry, started, score) if entry is not None else None
            if answer is not None:
                _header(call, _HIT if score is None
                        else (CACHE_NAME, b"semantic-hit; score=%.3f" % score))
                return answer
        else:
            meaning = self._meaning(call, policy)
        self._counters.missed(call.model)
        _header(call, _MISS)
        if not controls.store:
            return await next(call)
        if call.task is None and call.stream:
            call.needs_content = True  # kept as the canonical events it is translated into
        served = _Served()
        call.observers.append(served.outcome)
        answer = await next(call)
        keeper = _Keeper(self, key, meaning, _ttl(policy, controls), served)
        if answer.events is not None:
            answer.events = keeper.streamed(answer.events)
        elif call.task is not None:
            keeper.keep(None, answer.reply, answer.product)
        elif answer.reply is not None and call.front is not None:
            finish = finish_of_reply(call.front, answer.reply.body)  # not a whole decode
            if finish is not None and finish not in _NOT_KEPT:  # another front decodes it
                keeper.keep(None, answer.reply, wire=call.front)  # when it asks
        elif answer.result is not None:
            keeper.keep(answer.result)
        return answer

    async def clear(self, namespace: str | None = None, model: str | None = None) -> int:
        """Drop entries (a namespace's, a model's, or all); the semantic index follows."""
        removed = await self.store.clear(namespace, model)
        if self.semantic is not None:
            if namespace is None and model is None:
                await self.semantic.clear()
            elif model is None or namespace is not None:
                prefix = namespace if model is None else f"{namespace}{SEPARATOR}{model}"
                await self.semantic.clear(f"{prefix}{SEPARATOR}")
            # one model in every namespace: its index entries now point at nothing, and
            # each is discarded when a lookup finds its entry gone
        return removed

    def _meaning(self, call: Call, policy: Policy) -> tuple[str, str] | None:
        """What the semantic index looks `call` up by (and keeps its answer under), or None:
        no index, a task, no user's text last, or a text too long to embed cheaply."""
        if self.semantic is None or call.task is not None:
            return None
        meaning = semantic_parts(call, policy.namespace)
        if meaning is None or len(meaning[1]) > self._max_meaning_chars:
            return None
        return meaning

    async def _nearest(self, meaning: tuple[str, str]) -> tuple[bytes | None, float | None]:
        """The entry the semantic index finds for `meaning`, with its similarity score."""
        assert self.semantic is not None
        try:
            near = await self.semantic.nearest(*meaning)
        except Exception as error:  # the index is an optimisation: a miss, never a failure
            self._failed(error)
            return None, None
        if near is None:
            return None, None
        near_key, score = near
        data = await self._get(near_key)
        if data is None:
            await self.semantic.discard(near_key)  # its entry expired or was cleared
            return None, None
        return data, score

    def _hit(self, call: Call, entry: Entry, started: float,
             score: float | None) -> Answer | None:
        """The answer from `entry`; None when it cannot answer this call (kept as another
        front's bytes that did not decode)."""
        assert call.plan is not None, "the route step runs before the cache step"
        route = call.plan.first
        if call.task is not None:
            answer = Answer(route, reply=entry.reply, usage=entry.usage, product=entry.product)
        elif entry.reply is not None and entry.wire is call.front and not call.stream:
            answer = Answer(route, reply=entry.reply, usage=entry.usage)  # the bytes as kept
        else:
            result = entry.result
            if result is None and entry.reply is not None and entry.wire is not None:
                result = result_of_reply(entry.wire, entry.reply.body, call.model)
            if result is None:
                return None
            if call.stream:
                answer = Answer(route, events=_replayed(result_to_events(result)))
            else:
                answer = Answer(route, result=result)
        self._record(call, entry, started, score)
        return answer

    def _record(self, call: Call, entry: Entry, started: float, score: float | None) -> None:
        """The hit's outcome: no upstream usage or cost; what it saved."""
        outcome = Outcome(
            call.request_id, call.principal, call.endpoint.value, call.model, entry.provider,
            entry.upstream_model, call.stream, False, 1, 200, None,
            Usage(source=entry.usage.source), time.perf_counter() - started, None, 0.0,
            call.session_id, True, entry.deployment, guard_hits=call.guard_hits,
            saved_usd=entry.cost_usd, saved_tokens=entry.usage.total_tokens, cache_score=score,
        )
        if call.prompt_use is not None:
            outcome.prompt_id, outcome.prompt_version = call.prompt_use
        emit(outcome, (*call.observers, *self._listeners))

    async def _get(self, key: str) -> bytes | None:
        try:
            data = await self.store.get(key)
        except CacheStoreError as error:
            self._failed(error)
            return None
        self._answers()
        return data

    def put(self, key: CacheKey, meaning: tuple[str, str] | None, entry: Entry,
            ttl: float) -> None:
        """Keep `entry` behind the answer: the response never waits for the store (a Redis
        round trip) or the semantic index (an embedding)."""
        data = dump(entry)
        if len(data) > self._max_entry_bytes:
            return
        if meaning is None and self.store.keep(key.text, data, ttl):  # in process: now
            self._counters.stored_bytes.inc(len(data))
            return
        self._writing.start(self._write(key, meaning, data, ttl))

    async def _write(self, key: CacheKey, meaning: tuple[str, str] | None, data: bytes,
                     ttl: float) -> None:
        try:
            await self.store.set(key.text, data, ttl)
        except CacheStoreError as error:
            self._failed(error)
            return
        self._counters.stored_bytes.inc(len(data))
        if meaning is not None and self.semantic is not None:
            try:
                await self.semantic.add(*meaning, key.text, ttl)
            except Exception as error:  # the index is an optimisation: never a failure
                self._failed(error)

    async def written(self) -> None:
        """Wait until every answer kept so far is stored and indexed (tests, shutdown)."""
        await self._writing.drained()

    def _failed(self, error: Exception) -> None:
        self._counters.errors.inc()
        if not self._store_down:
            self._store_down = True
            _log.error("response cache store unavailable: serving without it",
                       error=type(error).__name__)

    def _answers(self) -> None:
        if self._store_down:
            self._store_down = False
            _log.info("response cache store answers again")


class _Served:
    """The outcome of the upstream call that served a miss (its route, usage and cost)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: Outcome | None = None

    def outcome(self, outcome: Outcome) -> None:
        if outcome.status == 200 and not outcome.cache_hit:
            self.last = outcome


class _Keeper:
    """Keeps a miss's complete answer: at once when whole, when its stream ends."""

    def __init__(self, step: CacheStep, key: CacheKey, meaning: tuple[str, str] | None,
                 ttl: float, served: _Served) -> None:
        self._step = step
        self._key = key
        self._meaning = meaning
        self._ttl = ttl
        self._served = served

    def keep(self, result: ModelResult | None, reply: RawReply | None = None,
                   product: object | None = None, wire: WireFormat | None = None) -> None:
        outcome = self._served.last
        if outcome is None:
            return
        if result is not None and result.finish_reason in _NOT_KEPT:
            return
        if reply is not None and reply.status != 200:
            return
        entry = Entry(outcome.provider, outcome.upstream_model, outcome.deployment,
                      outcome.usage or (result.usage if result is not None else Usage()),
                      outcome.cost_usd, result=result, reply=reply, wire=wire, product=product)
        self._step.put(self._key, self._meaning, entry, self._ttl)

    async def streamed(self, events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
        """The stream as it comes; kept once it has ended with a finish and no error."""
        assembler = MessageAssembler()
        complete = True
        try:
            async for event in events:
                if isinstance(event, ErrorEvent):
                    complete = False
                else:
                    assembler.feed(event)
                yield event
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()
        reason = assembler.finish_reason
        if not complete or reason is None:
            return
        outcome = self._served.last
        usage = assembler.usage or (outcome.usage if outcome is not None else None) or Usage()
        result = ModelResult(
            id=f"cached-{self._key.digest[:24]}", model=self._key.model,
            message=assembler.message(), finish_reason=reason, usage=usage,
            created=int(time.time()),
        )
        self.keep(result)


async def _replayed(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """A cached answer as a stream, its token timing compressed to nothing."""
    for event in events:
        yield event


def _ttl(policy: Policy, controls: CacheControls) -> float:
    return controls.ttl_seconds or policy.ttl_seconds


CACHE_NAME = CACHE_HEADER.encode()
_HIT = (CACHE_NAME, b"hit")
_MISS = (CACHE_NAME, b"miss")


def _header(call: Call, header: tuple[bytes, bytes]) -> None:
    if call.context is not None:
        call.context.add_encoded(header)


def _loaded(data: bytes | None) -> Entry | None:
    """The entry of a store's bytes; None for none, or for another version's layout."""
    if data is None:
        return None
    try:
        return load(data)
    except Unreadable:
        return None
