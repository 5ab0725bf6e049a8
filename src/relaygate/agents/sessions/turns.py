"""Posting a message to a session: the checks, the per-session lock, the active context,
the turn itself (turn.py), and the commit.

Turns on one session run one after the other: a per-session lock in this process, and a
conditional UPDATE on the message count in the store (with several instances, a turn that
loses that race appends nothing and answers 409 `session_busy`). A turn's messages and
usage are committed together before anyone hears that it completed; a turn that fails
appends nothing (its `error` event says why).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from sqlalchemy.exc import SQLAlchemyError

from relaygate.agents.sessions.codec import encode_part, message_from_stored
from relaygate.agents.sessions.events import SessionEvent, SessionEvents
from relaygate.agents.sessions.lookup import live_session
from relaygate.agents.sessions.memory import (
    ContextPlan,
    HistoryEntry,
    context_budget,
    plan_context,
)
from relaygate.agents.sessions.outcome import (
    TurnResult,
    completed_payload,
    error_payload,
    new_message,
    usage_json,
)
from relaygate.agents.sessions.repository import SessionRepository, TurnCommit
from relaygate.agents.sessions.requests import PostMessage
from relaygate.agents.sessions.run_limits import PARENT_METADATA, RunLimits, run_name
from relaygate.agents.sessions.template import is_template, render_system
from relaygate.agents.sessions.tool_choice import (
    delegate_entries,
    function_tools,
    gateway_tool_names,
    tool_list,
)
from relaygate.agents.sessions.turn import Produced, TurnInputs, TurnOutput, run_turn
from relaygate.agents.tools.base import Tool
from relaygate.agents.tools.service import ToolService
from relaygate.agents.tools.toolbox import Toolbox, build_toolbox
from relaygate.config import SessionSettings, ToolLoopSettings
from relaygate.errors import Conflict, GatewayError, InvalidRequest, PayloadTooLarge
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.pipeline.outcome import Outcome
from relaygate.pipeline.run_cost import RunCost, refuse_if_exhausted
from relaygate.prompts.ref import METADATA_KEY, session_prompt
from relaygate.routing.registry import ModelRegistry, Route, RoutePlan
from relaygate.store.sessions import SessionMessageRow, SessionRow
from relaygate.tokens.tokenizer import REPLY_PRIMING_TOKENS, count_message, count_tools
from relaygate.types import (
    ContentPart,
    Message,
    ModelCall,
    Role,
    TextPart,
)

Listener = Callable[[str, SessionEvent, dict[str, Any]], Awaitable[None]]
"""Receives a turn's events as they are published: (event id, name, payload)."""

Emit = Callable[[SessionEvent, dict[str, Any]], Awaitable[None]]

HISTORY_PAGE = 64  # history rows read per query when building the active context


class DelegateTools(Protocol):
    """The `agent:<name>` / `a2a:<alias>` entries of a session as tools (named/delegation.py)."""

    def check(self, entries: list[str]) -> None: ...

    async def tools(self, entries: list[str], origin: Origin, parent: SessionRow) -> list[Tool]:
        ...


class SessionGate(asyncio.Lock):
    """The lock every change to one session's history takes, and a count of the changes
    made through this process: a turn whose session did not change since it was prepared
    reuses what `prepare` read instead of reading it again."""

    version = 0


@dataclass(slots=True)
class Checked:
    """What `prepare` read and computed for a turn (valid while the gate's version holds)."""

    row: SessionRow
    tools: list[Any]  # the session's tools for this turn
    system: str | None  # rendered
    variables: dict[str, Any] | None  # the context variables, when read
    fixed: int  # tokens every call of the turn needs
    budget: int


@dataclass(slots=True)
class PreparedTurn:
    """A posted message that passed every check; nothing is stored yet."""

    principal: Principal
    session_id: str
    model: str
    parts: list[ContentPart]
    live: bool
    gate: SessionGate
    version: int
    checked: Checked
    origin: Origin  # whose turn: its model calls carry it, pinned to `plan`
    plan: RoutePlan
    new_tools: list[Any] | None = None  # the session's tools from this turn on, if changed
    metadata: dict[str, str] = field(default_factory=dict)
    limits: RunLimits = field(default_factory=RunLimits)  # the run's, from its metadata


class TurnRunner:
    def __init__(
        self,
        settings: SessionSettings,
        registry: ModelRegistry,
        pipeline: Pipeline,
        repository: SessionRepository,
        events: SessionEvents,
        tools: ToolService | None,
        loop: ToolLoopSettings,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.pipeline = pipeline
        self.repository = repository
        self.events = events
        self.tools = tools
        self.loop = loop
        self._locks: weakref.WeakValueDictionary[str, SessionGate] = weakref.WeakValueDictionary()
        self._running: set[asyncio.Task[TurnResult]] = set()
        self.delegates: DelegateTools | None = None  # set once the named agents are loaded

    def lock(self, session_id: str) -> SessionGate:
        """The lock every change to one session's history takes."""
        gate = self._locks.get(session_id)
        if gate is None:
            gate = self._locks[session_id] = SessionGate()
        return gate

    def changed(self, session_id: str) -> None:
        """The session changed (context, deletion): prepared turns must read it again."""
        gate = self._locks.get(session_id)
        if gate is not None:
            gate.version += 1

    def toolbox(
        self, principal: Principal, tools: list[Any], session_id: str | None
    ) -> Toolbox | None:
        """The gateway tools a session named (404 unknown, 403 denied), or None; its
        delegate entries are checked (400 malformed) but become tools only in a turn."""
        delegates = delegate_entries(tools)
        if delegates:
            if self.delegates is None:
                raise InvalidRequest("Delegate tools (agent:<name>, a2a:<alias>) are not "
                                     "available here.", param="tools", code="invalid_delegate")
            self.delegates.check(delegates)
        names = gateway_tool_names(tools)
        if not names or self.tools is None:
            return None
        return build_toolbox(self.tools, principal, names, session_id)

    async def close(self) -> None:
        """Stop any turn still running (it appends nothing)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def prepare(self, origin: Origin, session_id: str, body: PostMessage) -> PreparedTurn:
        """Every check a posted message must pass before anything is appended; the route
        is resolved here, once, and the turn's model calls keep it."""
        principal = origin.principal
        body.check()
        gate = self.lock(session_id)
        version = gate.version  # taken before reading: a change while we read is seen
        # no expiry slide here: the turn's commit slides it
        row = await live_session(self.repository, principal.tenant, session_id, touch=False)
        model = body.model or row.model
        if model != row.model and model not in row.allowed_models:
            allowed = ", ".join(f"'{name}'" for name in [row.model, *row.allowed_models])
            raise InvalidRequest(
                f"The model '{model}' is not allowed for session '{session_id}' "
                f"(allowed: {allowed}). A session keeps its model unless it was created "
                "with 'allowed_models'.",
                param="model",
                code="model_not_allowed",
            )
        plan = self.registry.plan(model)
        route = plan.first
        parts = body.parts()
        size = len(orjson.dumps([encode_part(part) for part in parts]))
        if size > self.settings.max_message_bytes:
            raise PayloadTooLarge(
                f"The message is {size} bytes; a session message may be at most "
                f"{self.settings.max_message_bytes} bytes.",
                param="message",
                code="message_too_large",
            )
        new_tools = None
        if body.tools is not None:
            new_tools = tool_list(body.tools)
            self.toolbox(principal, new_tools, None)  # 404 unknown, 403 denied
        checked = await self._check(row, route, parts, new_tools)  # raises if it cannot fit
        limits = RunLimits.of(row.metadata_)
        origin = await self._run_cost(origin, row, limits)  # 429 once the run spent its limit
        return PreparedTurn(
            principal,
            session_id,
            model,
            parts,
            body.stream,
            gate,
            version,
            checked,
            dataclasses.replace(origin, session_id=session_id, plan=plan),
            plan,
            new_tools,
            body.metadata,
            limits,
        )

    async def _run_cost(self, origin: Origin, row: SessionRow, limits: RunLimits) -> Origin:
        """`origin` carrying the run's cost limit, when its session has one: what the run
        spent so far (its turns, and the runs below it) counts, under any run above it
        (a workflow step's, a delegating parent's). Refused once any of them is spent."""
        cost = origin.cost
        if limits.max_usd is not None:
            spent = await self.repository.tree_usage(
                row.tenant, row.id, PARENT_METADATA, time.time()
            )
            cost = RunCost(limits.max_usd, origin.cost, what=run_name(row.metadata_),
                           spent_usd=spent.cost_usd or 0.0)
        refuse_if_exhausted(cost)
        return origin if cost is origin.cost else dataclasses.replace(origin, cost=cost)

    async def _check(
        self, row: SessionRow, route: Route, parts: list[ContentPart], new_tools: list[Any] | None
    ) -> Checked:
        tools = row.tools if new_tools is None else new_tools
        system, variables = await self._system(row)
        fixed, budget = self._fixed_tokens(row, route, parts, tools, system)
        return Checked(row, tools, system, variables, fixed, budget)

    def start(
        self, prepared: PreparedTurn, listener: Listener | None = None
    ) -> asyncio.Task[TurnResult]:
        """Run the turn as a task of its own: it finishes even if the client goes away."""
        task = asyncio.create_task(self._turn(prepared, listener))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _turn(self, prepared: PreparedTurn, listener: Listener | None) -> TurnResult:
        session_id = prepared.session_id

        async def emit(event: SessionEvent, payload: dict[str, Any]) -> None:
            event_id = await self.events.publish(session_id, event, payload)
            if listener is not None:
                await listener(event_id, event, payload)

        try:
            try:
                async with prepared.gate:
                    return await self._locked_turn(prepared, emit)
            except SQLAlchemyError as exc:  # the commit rolled back: say so, in our shape
                raise GatewayError(
                    f"The session store failed; nothing was appended to '{session_id}'. "
                    "Retry the message.",
                    code="storage_unavailable",
                    status=503,
                ) from exc
        except GatewayError as error:
            await emit(SessionEvent.ERROR, {"error": error_payload(error)})
            raise

    async def _system(self, row: SessionRow) -> tuple[str | None, dict[str, Any] | None]:
        """The system prompt, its template rendered with the context variables (and those
        variables, when they had to be read)."""
        if row.system is None or not is_template(row.system):
            return row.system, None
        variables = await self._variables(row.id)
        return render_system(row.system, variables), variables

    async def _variables(self, session_id: str) -> dict[str, Any]:
        return {item.key: item.value for item in await self.repository.context_items(session_id)}

    def _fixed_tokens(
        self,
        row: SessionRow,
        route: Route,
        parts: list[ContentPart],
        tools: list[Any],
        system: str | None,
    ) -> tuple[int, int]:
        """(tokens every call of this turn needs, the budget); raises if over budget."""
        model = route.upstream_model
        fixed = count_message(Message(Role.USER, parts), model) + REPLY_PRIMING_TOKENS
        if system:
            fixed += count_message(Message(Role.SYSTEM, [TextPart(system)]), model)
        fixed += count_tools(function_tools(tools), model)
        budget = context_budget(
            row.max_context_tokens,
            row.max_output_tokens,
            route,
            self.settings.default_context_window,
            self.settings.reply_tokens,
        )
        plan_context([], budget, fixed)
        return fixed, budget

    async def _active_context(
        self, row: SessionRow, budget: int, fixed: int
    ) -> tuple[ContextPlan, list[Message]]:
        """Plan the context from the newest history, read a page at a time from the end
        until it is more than the budget can hold (never starting inside a tool unit)."""
        room = budget - fixed
        newest_first: list[SessionMessageRow] = []
        tokens = 0
        while True:
            before = newest_first[-1].seq if newest_first else None
            page = await self.repository.recent(row.id, before, HISTORY_PAGE)
            newest_first += page
            tokens += sum(item.tokens for item in page)
            if len(page) < HISTORY_PAGE or (tokens > room and newest_first[-1].role != "tool"):
                break
        window = newest_first[::-1]
        plan = plan_context(
            [HistoryEntry(item.seq, Role(item.role), item.tokens) for item in window], budget, fixed
        )
        earlier = row.message_count - len(window)  # never read: older than the window
        if earlier:
            plan = dataclasses.replace(
                plan,
                trimmed_messages=plan.trimmed_messages + earlier,
                trimmed_tokens=plan.trimmed_tokens + row.history_tokens - tokens,
                trimmed_through_seq=plan.trimmed_through_seq or window[0].seq - 1,
            )
        kept = [item for item in window if plan.first_kept_seq and item.seq >= plan.first_kept_seq]
        messages = [
            message_from_stored(
                item.role,
                item.content,
                item.tool_calls,
                item.tool_call_id,
                item.name,
                item.reasoning,
            )
            for item in kept
        ]
        return plan, messages

    async def _turn_toolbox(
        self, prepared: PreparedTurn, tools: list[Any], row: SessionRow
    ) -> Toolbox | None:
        """The turn's gateway tools plus its delegates (bound to the turn's origin)."""
        toolbox = self.toolbox(prepared.principal, tools, row.id)
        entries = delegate_entries(tools)
        if not entries or self.delegates is None or self.tools is None:
            return toolbox
        if toolbox is None:
            toolbox = build_toolbox(self.tools, prepared.principal, [], row.id)
        for tool in await self.delegates.tools(entries, prepared.origin, row):
            toolbox.tools[tool.name] = tool
        return toolbox

    async def _locked_turn(self, prepared: PreparedTurn, emit: Emit) -> TurnResult:
        session_id, tenant = prepared.session_id, prepared.principal.tenant
        route = prepared.plan.first
        checked = prepared.checked
        if prepared.gate.version != prepared.version:  # changed since prepared: read again
            row = await live_session(self.repository, tenant, session_id, touch=False)
            checked = await self._check(row, route, prepared.parts, prepared.new_tools)
        row = checked.row
        plan, history = await self._active_context(row, checked.budget, checked.fixed)
        user = Message(Role.USER, prepared.parts)
        system = [Message(Role.SYSTEM, [TextPart(checked.system)])] if checked.system else []
        call = ModelCall(
            model=prepared.model,
            messages=[*system, *history, user],
            tools=function_tools(checked.tools),
            max_tokens=row.max_output_tokens,
            stream=prepared.live,
            include_usage=True,
        )
        turn = row.turn_count + 1
        toolbox = await self._turn_toolbox(prepared, checked.tools, row)
        if toolbox is not None:  # tools read the context variables too
            variables = checked.variables
            if variables is None:
                variables = await self._variables(session_id)
            toolbox.context = dataclasses.replace(toolbox.context, variables=variables)
        inputs = TurnInputs(
            tenant=tenant,
            session_id=session_id,
            turn=turn,
            toolbox=toolbox,
            loop=_loop_settings(self.loop, prepared),
        )
        user_content = [encode_part(part) for part in prepared.parts]
        await emit(
            SessionEvent.MESSAGE,
            {
                "type": "user_message",
                "turn": turn,
                "message": {"role": "user", "content": user_content},
            },
        )
        meter = TurnMeter()  # the turn's model calls' outcomes: what served, at what cost
        prompt = None
        if METADATA_KEY in row.metadata_:  # the session names a prompt template
            variables = checked.variables
            if variables is None:
                variables = await self._variables(session_id)
            prompt = session_prompt(row.metadata_, session_id, variables)
        origin = dataclasses.replace(
            prepared.origin, observers=(*prepared.origin.observers, meter.record), prompt=prompt
        )
        output = await run_turn(self.pipeline, origin, call, inputs, emit, live=prepared.live)
        cost, served = meter.cost_usd, meter.upstream_model or route.upstream_model
        new = [new_message(Produced(user, None, dict(prepared.metadata)), served)]
        new += [new_message(item, served) for item in output.messages]
        new[-1].metadata = {
            **new[-1].metadata,
            "turn": _turn_metadata(prepared, served, output, cost, plan),
        }
        now = time.time()
        commit = TurnCommit(
            session_id=session_id,
            expected_count=row.message_count,
            turn=turn,
            messages=new,
            usage=output.usage,
            cost_usd=cost,
            now=now,
            expires_at=now + row.ttl_seconds,
            tools=prepared.new_tools,
        )
        appended = await self.repository.append_turn(commit)
        prepared.gate.version += 1
        if appended is None:
            await live_session(self.repository, tenant, session_id, touch=False)  # gone: 404
            raise Conflict(
                f"Another turn was appended to session '{session_id}' at the same time "
                "(by another gateway instance); nothing was appended. Retry the message.",
                code="session_busy",
            )
        row.message_count += len(appended)
        row.turn_count, row.updated_at, row.expires_at = turn, now, commit.expires_at
        row.tools = checked.tools
        result = TurnResult(
            row, turn, appended, output.usage, cost, output.finish_reason, plan.as_metadata()
        )
        await emit(SessionEvent.COMPLETED, completed_payload(result))
        return result


def _loop_settings(loop: ToolLoopSettings, prepared: PreparedTurn) -> ToolLoopSettings:
    """The gateway's loop settings, with the run's own max steps and time."""
    changes: dict[str, Any] = {}
    if prepared.limits.max_steps is not None:
        changes["max_steps"] = prepared.limits.max_steps
    if prepared.limits.max_seconds is not None:
        changes["time_budget_seconds"] = prepared.limits.max_seconds
    return loop.model_copy(update=changes) if changes else loop


class TurnMeter:
    """Reads the outcomes of one turn's model calls: the sum of their costs (None while
    no served route had a price) and the upstream model that served the last one."""

    def __init__(self) -> None:
        self.cost_usd: float | None = None
        self.upstream_model: str | None = None

    def record(self, outcome: Outcome) -> None:
        if outcome.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + outcome.cost_usd
        self.upstream_model = outcome.upstream_model


def _turn_metadata(
    prepared: PreparedTurn, served: str, output: TurnOutput, cost: float | None, plan: ContextPlan
) -> dict[str, Any]:
    """What is recorded on the turn's last message: model, usage, cost, the context built."""
    meta: dict[str, Any] = {
        "model": prepared.model,
        "upstream_model": served,
        "finish_reason": output.finish_reason.value,
        "usage": usage_json(output.usage),
        "cost_usd": cost,
        "context": plan.as_metadata(),
    }
    if output.stop_reason is not None:
        meta["agent_loop"] = {"stop_reason": output.stop_reason, "steps": output.steps}
    return meta
