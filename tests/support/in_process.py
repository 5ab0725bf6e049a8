"""The gateway in this process: `create_app` with its lifespan run, an httpx client on it
(ASGI, no socket), the database migrated first as `relaygate serve` would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from relaygate.app import create_app
from relaygate.config import Settings
from relaygate.services import Gateway
from relaygate.store.schema import upgrade


@dataclass
class InProcess:
    app: Starlette
    client: httpx.AsyncClient

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.state.gateway
        return gateway


@asynccontextmanager
async def in_process(config: dict[str, Any], migrate: bool = True) -> AsyncIterator[InProcess]:
    settings = Settings.model_validate(config)
    if migrate:
        await upgrade(settings.storage.database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                     timeout=20) as client:
            yield InProcess(app, client)
