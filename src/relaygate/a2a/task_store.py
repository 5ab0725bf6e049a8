"""`DatabaseTasks`: the a2a-sdk's `VersionedTaskStore` on our database (store/a2a_tasks.py),
so a task started on one instance is read (`tasks/get`) and cancelled (`tasks/cancel`) on
any other. Every write carries the version it was read at and fails
(`ConcurrentTaskModificationError`) when the row has moved on: a cancel written by another
instance is one such move, and the SDK's task on the running instance then stops its
agent (the run's turn is cancelled, nothing is appended). Tasks are owned by
`<agent>@<tenant>` (server.py's `owner_of`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from a2a.server.cluster.task_store import (
    ConcurrentTaskModificationError,
    StoredTask,
    VersionedTaskStore,
)
from a2a.server.cluster.version import TaskVersion
from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue import Event
from a2a.types.a2a_pb2 import ListTasksRequest, ListTasksResponse, Task, TaskState
from a2a.utils.constants import DEFAULT_LIST_TASKS_PAGE_SIZE, MAX_LIST_TASKS_PAGE_SIZE
from a2a.utils.errors import InvalidParamsError
from google.protobuf.json_format import MessageToDict, ParseDict

from relaygate.store.a2a_tasks import A2ATaskStore, TaskQuery

TERMINAL = (TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_CANCELED,
            TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_REJECTED)


def _version(version: TaskVersion) -> int:
    """Our versions wrap the row's counter (the SDK keeps the value private)."""
    return int(version._value)


class DatabaseTasks(VersionedTaskStore):
    def __init__(self, store: A2ATaskStore, owner_of: Callable[[ServerCallContext], str]) -> None:
        self._store = store
        self._owner_of = owner_of
        self.here: set[str] = set()  # tasks this instance writes and that have not ended

    async def save(self, task: Task, *, event: Event | None, prev: Task | None,
                   prev_version: TaskVersion, context: ServerCallContext) -> TaskVersion:
        owner, data, state = self._owner_of(context), _json(task), int(task.status.state)
        if task.status.state == TaskState.TASK_STATE_CANCELED:
            # a cancel overwrites any state but a terminal one, whatever version it read
            version = await self._store.update(owner, task.id, state, data,
                                               unless_states=[int(item) for item in TERMINAL])
        elif prev_version.is_missing:
            version = await self._store.insert(owner, task.id, task.context_id, state, data)
        else:
            version = await self._store.update(owner, task.id, state, data,
                                               expected_version=_version(prev_version))
        if version is None:
            self.here.discard(task.id)  # moved on elsewhere (a cancel): not ours to stream
            raise ConcurrentTaskModificationError(task.id)
        if task.status.state in TERMINAL:
            self.here.discard(task.id)
        else:
            self.here.add(task.id)
        return TaskVersion(version)

    async def get(self, task_id: str, context: ServerCallContext) -> StoredTask | None:
        row = await self._store.get(self._owner_of(context), task_id)
        if row is None:
            return None
        return StoredTask(ParseDict(row.task, Task(), ignore_unknown_fields=True),
                          TaskVersion(row.version))

    async def list(self, params: ListTasksRequest, context: ServerCallContext,
                   ) -> ListTasksResponse:
        """The owner's tasks, newest write first; the page token is the next offset."""
        offset = 0
        if params.page_token:
            if not params.page_token.isdigit():
                raise InvalidParamsError(f"Invalid page token: {params.page_token}")
            offset = int(params.page_token)
        size = min(params.page_size or DEFAULT_LIST_TASKS_PAGE_SIZE, MAX_LIST_TASKS_PAGE_SIZE)
        after = (params.status_timestamp_after.ToNanoseconds() / 1e9
                 if params.HasField("status_timestamp_after") else None)
        tasks, total = await self._store.page(self._owner_of(context), TaskQuery(
            context_id=params.context_id or None,
            state=int(params.status) if params.status else None,
            updated_after=after, offset=offset, limit=size))
        more = offset + len(tasks) < total
        return ListTasksResponse(
            tasks=[ParseDict(task, Task(), ignore_unknown_fields=True) for task in tasks],
            next_page_token=str(offset + len(tasks)) if more else "",
            total_size=total, page_size=size)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        await self._store.delete(self._owner_of(context), task_id)

    async def sweep(self, ttl_seconds: float) -> int:
        """Delete the tasks that ended more than `ttl_seconds` ago (any owner)."""
        return await self._store.delete_ended([int(state) for state in TERMINAL],
                                              time.time() - ttl_seconds)


def _json(task: Task) -> dict[str, Any]:
    data: dict[str, Any] = MessageToDict(task)
    return data
