"""Load the a2a-sdk only when A2A is used: the server behind `/a2a/...` is built on its
first authenticated request (importing the SDK costs tens of MiB)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from relaygate.lazy_import import load_with

if TYPE_CHECKING:
    from relaygate.a2a.server import A2AServer
    from relaygate.agents.named.catalog import AgentCatalog
    from relaygate.agents.sessions.service import SessionService
    from relaygate.store.db import Database
    from relaygate.streaming.bus import Bus


def _server_class() -> type[A2AServer]:
    """The server class; importing it imports the a2a-sdk (in load_with's thread)."""
    from relaygate.a2a.server import A2AServer

    return A2AServer


class A2AOnDemand:
    def __init__(self, catalog: AgentCatalog, sessions: SessionService, database: Database,
                 shared_bus: Bus | None, *, task_ttl_seconds: float) -> None:
        self._task_ttl = task_ttl_seconds
        self._catalog = catalog
        self._sessions = sessions
        self._database = database
        self._shared_bus = shared_bus
        self._server: A2AServer | None = None
        self._lock = asyncio.Lock()

    async def server(self) -> A2AServer:
        """The A2A server, built (and the SDK imported) the first time."""
        if self._server is None:
            async with self._lock:
                if self._server is None:
                    server_class = await load_with(_server_class)
                    self._server = server_class(self._catalog, self._sessions,
                                                self._database, self._shared_bus,
                                                task_ttl_seconds=self._task_ttl)
        return self._server

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
