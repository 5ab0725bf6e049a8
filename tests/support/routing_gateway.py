"""An in-process gateway (create_app, uvicorn in a thread, a real port) on a YAML-like dict,
for the routing tests: faster than a subprocess where one gateway is enough."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import yaml
from openai.types.chat import ChatCompletionMessageParam

from relaygate.app import create_app
from relaygate.config import parse_settings
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.faulty_upstream import FaultyUpstream
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


class Upstreams:
    def __init__(self, faulty: FaultyUpstream, server: ThreadedServer,
                 anthropic: FakeAnthropic, anthropic_server: ThreadedServer) -> None:
        self.faulty = faulty
        self.server = server
        self.anthropic = anthropic
        self.anthropic_server = anthropic_server

    def openai(self, deployment: str) -> dict[str, Any]:
        """A provider entry for one deployment path of the faulty upstream."""
        return {"type": "openai", "base_url": self.faulty.base_url(self.server, deployment),
                "api_key": "sk-test", "timeout": {"connect": 1, "read": 5}}

    def anthropic_provider(self) -> dict[str, Any]:
        return {"type": "anthropic", "base_url": self.anthropic_server.base_url,
                "api_key": "sk-ant-test"}


def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=20)


HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
