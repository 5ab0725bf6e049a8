"""The mailbox hands a message to an A2A task: `POST /v1/agents/messages` with `a2a: true`
sends its content to the named agent `to_agent` as an A2A task, through the same request
handler as `/a2a/{name}` (so `tasks/get` and `tasks/cancel` there see it). The message is
acknowledged (the task took it); when the task ends, its answer arrives in `from_agent`'s
mailbox as a reply from `to_agent` (same conversation, metadata `{a2a_task_id,
in_reply_to, state}`)."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from a2a.helpers.proto_helpers import get_artifact_text, get_message_text
from a2a.types.a2a_pb2 import (
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError

from relaygate.a2a.server import A2AServer
from relaygate.agents.messages import AgentMessage, Mailbox
from relaygate.observability.logging import get_logger
from relaygate.pipeline.call import Origin

_log = get_logger("relaygate.a2a")


async def hand_to_task(
    server: A2AServer, mailbox: Mailbox, origin: Origin, message: AgentMessage,
) -> dict[str, Any]:
    """Start the task for `message` (its recipient is a named agent); its JSON summary."""
    context = server.call_context(origin, message.to_agent)
    request = SendMessageRequest(
        message=Message(role=Role.ROLE_USER, parts=[Part(text=_text(message.content))],
                        message_id=message.id, context_id=message.conversation_id or ""),
        configuration=SendMessageConfiguration(return_immediately=True),
    )
    result = await server.handler.on_message_send(request, context)
    if not isinstance(result, Task):  # our executor always makes a task
        raise TypeError("the agent answered without a task")
    await mailbox.acknowledge(origin.principal.tenant, message.to_agent, ids=[message.id])
    server.background.start(f"a2a-reply:{result.id}",
                            _reply_when_done(server, mailbox, origin, message, result))
    return {"id": result.id, "agent": message.to_agent,
            "status": TaskState.Name(result.status.state).removeprefix("TASK_STATE_").lower()}


async def _reply_when_done(
    server: A2AServer, mailbox: Mailbox, origin: Origin, message: AgentMessage, task: Task,
) -> None:
    context = server.call_context(origin, message.to_agent)
    with contextlib.suppress(A2AError):  # already ended: nothing left to wait for
        async for _ in server.handler.on_subscribe_to_task(SubscribeToTaskRequest(id=task.id),
                                                           context):
            pass
    final = await server.handler.on_get_task(GetTaskRequest(id=task.id), context)
    if final is None:
        return
    state = TaskState.Name(final.status.state).removeprefix("TASK_STATE_").lower()
    answer = "\n".join(get_artifact_text(artifact, "") for artifact in final.artifacts)
    if not answer and final.status.HasField("message"):
        answer = get_message_text(final.status.message)
    await mailbox.send(origin.principal.tenant, message.to_agent, message.from_agent, answer,
                       conversation_id=message.conversation_id,
                       metadata={"a2a_task_id": final.id, "in_reply_to": message.id,
                                 "state": state})
    _log.info("a2a task answered", task=final.id, agent=message.to_agent, state=state)


def _text(content: Any) -> str:
    """A message's content as the task's text (anything but a string as its JSON)."""
    return content if isinstance(content, str) else orjson.dumps(content).decode()
