"""`BusEvents`: the a2a-sdk's `TaskEventStream` on the gateway's shared bus (Redis), so an
instance that is not running a task can still stream its events (`tasks/resubscribe`):
the running instance publishes each event it applies, with the task's version after it,
on the topic `a2a:task:<id>`; a subscriber skips what its snapshot already held. Used only
with `storage.redis_url` (the in-process bus would reach no other instance)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from a2a.server.cluster.event_stream import TaskEventStream, VersionedEvent
from a2a.server.cluster.version import TaskVersion
from a2a.types.a2a_pb2 import (
    Message,
    Task,
    TaskArtifactUpdateEvent,
    TaskStatusUpdateEvent,
)
from google.protobuf.json_format import MessageToDict, ParseDict

from relaygate.streaming.bus import Bus

KINDS: dict[str, type[Task | Message | TaskStatusUpdateEvent | TaskArtifactUpdateEvent]] = {
    kind.__name__: kind for kind in (Task, Message, TaskStatusUpdateEvent,
                                     TaskArtifactUpdateEvent)
}


def topic(task_id: str) -> str:
    return f"a2a:task:{task_id}"


class BusEvents(TaskEventStream):
    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def publish(self, task_id: str, event: VersionedEvent) -> None:
        kind = type(event.event).__name__
        if kind not in KINDS:  # nothing else crosses instances
            return
        await self._bus.publish(topic(task_id), {
            "kind": kind, "event": MessageToDict(event.event),
            "version": int(event.version._value)})

    async def subscribe(self, task_id: str, *, after: TaskVersion,
                        ) -> AsyncGenerator[VersionedEvent, None]:
        async with self._bus.subscribe(topic(task_id)) as messages:
            async for message in messages:
                decoded = _decode(message)
                if decoded is not None and decoded.version.is_after(after):
                    yield decoded

    async def destroy(self, task_id: str) -> None:
        """Nothing to release: a bus topic lives while someone listens."""


def _decode(message: dict[str, Any]) -> VersionedEvent | None:
    kind = KINDS.get(str(message.get("kind")))
    if kind is None:
        return None
    event = ParseDict(message.get("event") or {}, kind(), ignore_unknown_fields=True)
    return VersionedEvent(event=event, version=TaskVersion(int(message.get("version", 0))))
