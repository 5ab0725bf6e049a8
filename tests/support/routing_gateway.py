"""An in-process gateway (create_app, uvicorn in a thread, a real port) on a YAML-like dict,
for the routing tests: faster than a subprocess where one gateway is enough."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from relaygate.app import create_app
from relaygate.config import parse_settings
from tests.support.servers import ThreadedServer


@contextmanager
def in_process_gateway(tmp_path: Path, config: dict[str, Any]) -> Iterator[ThreadedServer]:
    config = dict(config)
    config.setdefault("storage", {}).setdefault(
        "database_url", f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}"
    )
    settings = parse_settings(yaml.safe_dump(config), "test.yaml", environ={})
    with ThreadedServer(create_app(settings), lifespan="on") as server:
        yield server
