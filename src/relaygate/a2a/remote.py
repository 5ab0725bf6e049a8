"""Calling a remote A2A agent (`a2a.remotes.<alias>`) with the a2a-sdk client: its card is
read from `<url>/.well-known/agent-card.json` (with the configured headers), one message is
sent, and the answer's text (the task's artifacts, or the reply message) comes back. The
delegation chain goes along in the message's metadata, so a relaygate on the other side
keeps counting depth."""

from __future__ import annotations

import uuid

import httpx
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import get_artifact_text, get_message_text
from a2a.types.a2a_pb2 import (
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)

from relaygate.a2a.executor import LINEAGE
from relaygate.agents.named.lineage import Lineage
from relaygate.config import A2ARemoteSettings
from relaygate.errors import GatewayError

FAILED_STATES = {TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_REJECTED,
                 TaskState.TASK_STATE_CANCELED}


async def ask(remote: A2ARemoteSettings, text: str, lineage: Lineage) -> str:
    """The remote agent's answer to `text` (a GatewayError when its task did not complete)."""
    message = Message(role=Role.ROLE_USER, parts=[Part(text=text)],
                      message_id=uuid.uuid4().hex,
                      metadata={LINEAGE: lineage.metadata()})
    async with httpx.AsyncClient(headers=remote.headers, timeout=remote.timeout_seconds) as http:
        client = await create_client(remote.url,
                                     ClientConfig(streaming=False, httpx_client=http))
        async with client:
            last: StreamResponse | None = None
            async for response in client.send_message(SendMessageRequest(message=message)):
                last = response  # without streaming: the one answer
    if last is None:
        raise GatewayError("The remote agent sent no answer.", code="a2a_remote_failed",
                           status=502)
    return _answer(last)


def _answer(response: StreamResponse) -> str:
    if response.HasField("message"):
        return get_message_text(response.message)
    task = response.task
    if task.status.state in FAILED_STATES:
        why = get_message_text(task.status.message) if task.status.HasField("message") else ""
        raise GatewayError(f"The remote agent's task ended {TaskState.Name(task.status.state)}"
                           f"{': ' + why if why else ''}.", code="a2a_remote_failed", status=502)
    return "\n".join(get_artifact_text(artifact, "") for artifact in task.artifacts)
