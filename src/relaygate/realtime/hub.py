"""The hub: who is connected to which conversation, and fan-out to them.

Each peer has a bounded queue of encoded frames and one writer task draining it into
its socket. Broadcasting encodes a message once and offers it to every peer's queue
without waiting, so all peers see the same order and a slow one never slows the rest;
a peer whose queue overflows is closed with 4429. One heartbeat task pings every peer
each `ping_interval` and drops a peer silent for longer than `idle_timeout` (4408).
With a shared bus (Redis), rooms span gateway instances through `RoomRelay`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from relaygate.config import RealtimeSettings
from relaygate.observability.logging import get_logger
from relaygate.realtime.protocol import CloseCode, MessageType, encode, envelope
from relaygate.realtime.relay import RoomRelay
from relaygate.streaming.bus import Bus

_log = get_logger("relaygate.realtime")

SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]
RoomKey = tuple[str, str]  # (tenant, conversation_id): tenants never share a room


class Peer:
    """One connected client: its room, its outgoing queue, when it was last heard from."""

    __slots__ = ("_close", "_send", "closed", "key", "last_seen", "participant", "queue", "writer")

    def __init__(
        self, key: RoomKey, participant: str, send: SendText, close: Close, queue_size: int
    ) -> None:
        self.key = key
        self.participant = participant
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.last_seen = time.monotonic()
        self.closed: int | None = None  # the close code once the hub gave up on it
        self.writer: asyncio.Task[None] | None = None
        self._send = send
        self._close = close

    @property
    def conversation_id(self) -> str:
        return self.key[1]

    def heard(self) -> None:
        self.last_seen = time.monotonic()

    async def pump(self) -> None:
        """Write queued frames to the socket, in order, until cancelled."""
        while True:
            frame = await self.queue.get()
            await self._send(frame)

    async def close_socket(self, code: int, reason: str) -> None:
        await self._close(code, reason)


@dataclass(slots=True)
class _Room:
    peers: set[Peer] = field(default_factory=set)
    sequence: int = 0


class Hub:
    def __init__(self, settings: RealtimeSettings, shared_bus: Bus | None = None) -> None:
        self._settings = settings
        self._relay = RoomRelay(shared_bus, self.deliver) if shared_bus is not None else None
        # with several instances each numbers its own broadcasts: (origin, sequence) is unique
        self._origin = {"origin": self._relay.origin} if self._relay is not None else {}
        self._rooms: dict[RoomKey, _Room] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self.dropped_slow = 0
        self.dropped_idle = 0

    # --- membership ---------------------------------------------------------------

    def peer(self, key: RoomKey, participant: str, send: SendText, close: Close) -> Peer:
        return Peer(key, participant, send, close, self._settings.send_queue_size)

    async def open_room(self, key: RoomKey) -> None:
        """Make sure the room exists here and hears the other instances (before a peer joins,
        so nothing broadcast after the peer is told it is connected can pass it by)."""
        if key not in self._rooms:
            self._rooms[key] = _Room()
            if self._relay is not None:
                await self._relay.join(key)

    async def attach(self, peer: Peer) -> None:
        """Join the peer to its room (opening it if needed) and start its writer."""
        await self.open_room(peer.key)
        room = self._rooms[peer.key]
        room.peers.add(peer)
        peer.writer = asyncio.create_task(self._run_writer(peer))
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat())

    def _leave(self, peer: Peer) -> None:
        room = self._rooms.get(peer.key)
        if room is not None:
            room.peers.discard(peer)
            if not room.peers:
                del self._rooms[peer.key]
                if self._relay is not None:
                    self._relay.leave(peer.key)

    async def detach(self, peer: Peer) -> None:
        """Leave the room and stop the writer (the socket itself is the caller's)."""
        self._leave(peer)
        if peer.writer is not None and peer.writer is not asyncio.current_task():
            peer.writer.cancel()
            with suppress(asyncio.CancelledError):
                await peer.writer

    async def _run_writer(self, peer: Peer) -> None:
        try:
            await peer.pump()
        except (OSError, RuntimeError) as exc:  # the socket went away under us
            _log.debug("peer writer stopped", reason=str(exc))

    # --- sending ------------------------------------------------------------------

    def broadcast(
        self, key: RoomKey, message: dict[str, Any], *, exclude: Peer | None = None
    ) -> int:
        """Number the message in its room and offer it to every peer; returns the count.

        `sequence` counts the broadcasts of this instance to the room since the room was
        opened (its first participant joined); with a shared bus the message also names
        its `origin` instance, and each origin's numbers only grow."""
        room = self._rooms.get(key)
        if room is None:
            return 0
        room.sequence += 1
        frame = encode({**message, "sequence": room.sequence, **self._origin})
        if self._relay is not None:
            self._relay.publish(key, frame)
        return self._deliver(room, frame, exclude)

    def deliver(self, key: RoomKey, frame: str) -> None:
        """A frame broadcast by another instance, to this instance's participants."""
        room = self._rooms.get(key)
        if room is not None:
            self._deliver(room, frame, None)

    def _deliver(self, room: _Room, frame: str, exclude: Peer | None) -> int:
        sent = 0
        for peer in list(room.peers):
            if peer is not exclude and self._offer(peer, frame):
                sent += 1
        return sent

    def send(self, peer: Peer, message: dict[str, Any]) -> bool:
        """To one peer only (replies such as pong or an error about its own message)."""
        return self._offer(peer, encode(message))

    def _offer(self, peer: Peer, frame: str) -> bool:
        if peer.closed is not None:
            return False
        try:
            peer.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped_slow += 1
            self.drop(peer, CloseCode.SLOW_CONSUMER, "too slow: send queue overflowed")
            return False
        return True

    def drop(self, peer: Peer, code: CloseCode, reason: str) -> None:
        """Give up on a peer: leave the room now, close its socket in the background."""
        if peer.closed is not None:
            return
        peer.closed = code
        self._leave(peer)
        _log.info("peer dropped", code=int(code), reason=reason,
                  conversation_id=peer.conversation_id)
        self._spawn(self._close_peer(peer, code, reason))

    async def _close_peer(self, peer: Peer, code: int, reason: str) -> None:
        if peer.writer is not None:
            peer.writer.cancel()
            with suppress(asyncio.CancelledError):
                await peer.writer
        while not peer.queue.empty():  # free what it will never read
            peer.queue.get_nowait()
        try:
            async with asyncio.timeout(self._settings.close_timeout_seconds):
                await peer.close_socket(code, reason)
        except TimeoutError:
            _log.info("close frame not delivered in time", code=code)
        except (OSError, RuntimeError) as exc:
            _log.debug("close failed", reason=str(exc))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- heartbeat ----------------------------------------------------------------

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._settings.ping_interval_seconds)
            self.sweep()

    def sweep(self) -> None:
        """Drop silent peers, ping the rest."""
        cutoff = time.monotonic() - self._settings.idle_timeout_seconds
        for key, room in list(self._rooms.items()):
            ping = encode(envelope(MessageType.PING, key[1]))
            for peer in list(room.peers):
                if peer.last_seen < cutoff:
                    self.dropped_idle += 1
                    self.drop(peer, CloseCode.IDLE, "no message within the idle timeout")
                else:
                    self._offer(peer, ping)

    # --- figures and shutdown -------------------------------------------------------

    def stats(self) -> dict[str, int]:
        peers = [peer for room in self._rooms.values() for peer in room.peers]
        return {
            "connections": len(peers),
            "conversations": len(self._rooms),
            "queued_frames": sum(peer.queue.qsize() for peer in peers),
            "dropped_slow_consumers": self.dropped_slow,
            "dropped_idle": self.dropped_idle,
        }

    async def close(self) -> None:
        """Close every connection with 1001 (going away) and stop the heartbeat."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await self._heartbeat
        for room in list(self._rooms.values()):
            for peer in list(room.peers):
                self.drop(peer, CloseCode.GOING_AWAY, "the gateway is shutting down")
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._relay is not None:
            await self._relay.close()
