"""`Realtime`: the hub, the turn pool and the conversation turns, built once per gateway.

The WebSocket front hands every decoded client message to `Realtime`; everything that
goes out to clients goes through the hub.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from relaygate.agents.sessions.service import SessionService
from relaygate.config import RealtimeSettings
from relaygate.errors import GatewayError, ModelNotFound
from relaygate.observability.logging import get_logger
from relaygate.pipeline.auth import Principal
from relaygate.realtime.hub import Hub, Peer, RoomKey
from relaygate.realtime.locks import KeyedLocks
from relaygate.realtime.pool import Busy, TurnPool
from relaygate.realtime.protocol import (
    AGENT,
    ErrorCode,
    MessageType,
    UserMessage,
    envelope,
    error_message,
)
from relaygate.realtime.turns import ConversationTurns, TurnRequest
from relaygate.routing.registry import ModelRegistry
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus

_log = get_logger("relaygate.realtime")


class Realtime:
    def __init__(
        self,
        settings: RealtimeSettings,
        registry: ModelRegistry,
        sessions: SessionService,
        database: Database,
        shared_bus: Bus | None = None,
    ) -> None:
        """`shared_bus` (Redis) lets participants on other gateway instances join in."""
        self.settings = settings
        self.hub = Hub(settings, shared_bus)
        self.pool = TurnPool(settings.workers, settings.turn_queue_size)
        self.turns = ConversationTurns(sessions, self.default_model)
        self._locks = KeyedLocks()
        self._registry = registry

    def start(self) -> None:
        self.pool.start()

    async def close(self) -> None:
        await self.pool.close()
        await self.hub.close()

    def stats(self) -> dict[str, Any]:
        return {
            **self.hub.stats(),
            "turns_running": self.pool.running,
            "turns_queued": self.pool.depth,
            "queue_capacity": self.settings.turn_queue_size,
            "workers": self.settings.workers,
        }

    def default_model(self) -> str:
        if self.settings.default_model:
            return self.settings.default_model
        names = self._registry.model_names()
        if not names:
            raise ModelNotFound("No model is configured.")
        return names[0]

    def user_message(self, peer: Peer, principal: Principal, message: UserMessage) -> None:
        """Echo to the others, then queue the agent's turn (or tell the sender `busy`)."""
        key = peer.key
        turn = TurnRequest(
            principal=principal,
            conversation_id=peer.conversation_id,
            turn_id=f"turn_{uuid.uuid4().hex[:20]}",
            content=message.content,
            model=message.model,
            tools=message.tools,
        )

        def emit(kind: MessageType, **fields: Any) -> None:
            self.hub.broadcast(key, envelope(kind, peer.conversation_id, **fields))

        async def run() -> None:
            async with self._locks.hold(key):  # one turn at a time per conversation
                emit(MessageType.TYPING_INDICATOR, participant=AGENT, typing=True,
                     turn_id=turn.turn_id)
                try:
                    async with asyncio.timeout(self.settings.turn_timeout_seconds):
                        await self.turns.run(turn, emit)
                except TimeoutError:
                    self._turn_failed(key, turn, ErrorCode.TIMEOUT,
                                      "The agent's turn ran past "
                                      f"{self.settings.turn_timeout_seconds:g} seconds and was "
                                      "stopped.")
                except GatewayError as error:
                    self._turn_failed(key, turn, _code(error), error.message)
                except Exception:  # tell the participants, keep the traceback in the log
                    _log.exception("agent turn failed", turn_id=turn.turn_id)
                    self._turn_failed(key, turn, ErrorCode.INTERNAL_ERROR,
                                      f"The agent's turn failed (turn id {turn.turn_id}).")
                finally:
                    emit(MessageType.TYPING_INDICATOR, participant=AGENT, typing=False,
                         turn_id=turn.turn_id)

        try:
            self.pool.submit(run)
        except Busy as busy:
            self.hub.send(peer, error_message(peer.conversation_id, ErrorCode.BUSY, str(busy),
                                              reply_to=message.id))
            return
        self.hub.broadcast(
            key,
            envelope(MessageType.USER_MESSAGE, peer.conversation_id, message_id=message.id,
                     participant=peer.participant, content=message.content,
                     model=message.model, turn_id=turn.turn_id),
            exclude=peer,
        )

    def _turn_failed(self, key: RoomKey, turn: TurnRequest, code: ErrorCode, text: str) -> None:
        self.hub.broadcast(key, error_message(turn.conversation_id, code, text,
                                              turn_id=turn.turn_id))


def _code(error: GatewayError) -> ErrorCode:
    if isinstance(error, ModelNotFound):
        return ErrorCode.MODEL_NOT_FOUND
    if error.status == 404:
        return ErrorCode.NOT_FOUND
    if error.status == 403:
        return ErrorCode.FORBIDDEN
    if error.status >= 500:
        return ErrorCode.UPSTREAM_ERROR
    return ErrorCode.BAD_MESSAGE
