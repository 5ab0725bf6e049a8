"""The gateway on a real port in a thread of this process (migrated first, as `relaygate
serve` does), for tests whose behaviour is HTTP's: streams that stay open, SDK clients."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from relaygate.app import create_app
from relaygate.config import Settings
from relaygate.store.schema import upgrade
from tests.support.servers import ThreadedServer


@contextmanager
def serve(config: dict[str, Any]) -> Iterator[str]:
    """Serve `config` (call it from a sync fixture); yields the base URL."""
    settings = Settings.model_validate(config)
    asyncio.run(upgrade(settings.storage.database_url))
    with ThreadedServer(create_app(settings), lifespan="on") as server:
        yield server.base_url
