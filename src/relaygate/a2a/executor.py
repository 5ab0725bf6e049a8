"""`NamedAgentExecutor`: an A2A task is one run of a named agent (a session, as every run
is). The run streams: each chunk of the reply is an artifact update, then the task
completes (or fails, with the gateway's error as its status message, or with
`failed_max_cost` / `failed_max_steps` / `failed_max_time` when the agent's own limit
stopped its run — what it produced stays the task's artifact). A cancelled task
cancels its run's turn (nothing is appended)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types.a2a_pb2 import TaskState

from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.lineage import Lineage
from relaygate.agents.named.runs import LIMIT_STOPS, LIMIT_WHY, prepare_run, stop_reason_of
from relaygate.agents.sessions.events import SessionEvent
from relaygate.agents.sessions.render import text_of
from relaygate.agents.sessions.service import SessionService
from relaygate.errors import GatewayError
from relaygate.pipeline.call import Origin

ORIGIN = "relaygate.origin"  # the call context's state: who asks (the route authenticated)
AGENT = "relaygate.agent"  # and which agent
LINEAGE = "relaygate.lineage"  # a delegation chain a relaygate caller sent in the metadata
REPLY = "reply"  # the artifact holding the agent's answer


@dataclass(slots=True)
class NamedAgentExecutor(AgentExecutor):
    catalog: AgentCatalog
    sessions: SessionService

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        state = context.call_context.state
        origin: Origin = state[ORIGIN]
        name: str = state[AGENT]
        message = context.message
        assert message is not None  # a send always carries one
        task = context.current_task or new_task_from_user_message(message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        chunks = Chunks(updater)
        try:
            prepared = await prepare_run(self.catalog, self.sessions, origin, name,
                                         context.get_user_input(), stream=True,
                                         lineage=_lineage(message.metadata, name))
            turn = self.sessions.start_turn(prepared, chunks.hear)
            try:
                result = await asyncio.shield(turn)
            except asyncio.CancelledError:
                turn.cancel()
                raise
        except GatewayError as error:
            await updater.failed(updater.new_agent_message([new_text_part(
                f"{error.code or 'error'}: {error.message}")]))
            return
        await chunks.finish(text_of(result.messages[-1].content),
                            {"relaygate_run_id": prepared.session_id})
        stopped = stop_reason_of(result.messages[-1].metadata_)
        if stopped in LIMIT_STOPS:  # the run's own limit ended it: the task failed
            await updater.failed(updater.new_agent_message([new_text_part(
                f"{LIMIT_STOPS[stopped]}: the run of agent {name!r} stopped at "
                f"{LIMIT_WHY[stopped]} (run {prepared.session_id}).")]))
            return
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        if task is None or task.status.state == TaskState.TASK_STATE_CANCELED:
            return
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        with contextlib.suppress(RuntimeError):  # already terminal
            await updater.cancel()


class Chunks:
    """The run's reply as one artifact, a part per chunk as it streams (readers join the
    parts). Each chunk is sent when the next arrives, so the last one carries
    `last_chunk` and the run's id."""

    def __init__(self, updater: TaskUpdater) -> None:
        self.updater = updater
        self.sent = False
        self.pending: str | None = None

    async def hear(self, event_id: str, event: SessionEvent, payload: dict[str, Any]) -> None:
        if event is SessionEvent.CHUNK and payload.get("text"):
            if self.pending is not None:
                await self._send(self.pending)
            self.pending = str(payload["text"])

    async def finish(self, text: str, metadata: dict[str, Any]) -> None:
        """The last chunk (the whole text when nothing streamed)."""
        last = self.pending if self.sent or self.pending is not None else text
        await self._send(last or "", last_chunk=True, metadata=metadata)

    async def _send(self, text: str, *, last_chunk: bool = False,
                    metadata: dict[str, Any] | None = None) -> None:
        await self.updater.add_artifact([new_text_part(text)], artifact_id=REPLY, name=REPLY,
                                        append=self.sent, last_chunk=last_chunk,
                                        metadata=metadata)
        self.sent = True


def _lineage(metadata: Any, name: str) -> Lineage | None:
    """The run's place in a delegation chain another relaygate sent along (remote.py): its
    depth goes on from there, so a chain across gateways stops at the depth limit too."""
    if metadata is None or LINEAGE not in metadata:
        return None
    given = Lineage.of({key: str(value) for key, value in dict(metadata[LINEAGE]).items()})
    return Lineage((*given.chain, name), given.depth)
