"""A fake OpenAI upstream for the ledger tests, and the gateway configuration around it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import ThreadedServer

ADMIN_KEY = "admin-key-0123456789abcdef"
KEY_A = "sk-ledger-key-a-0123456789"
KEY_B = "sk-ledger-key-b-9876543210"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The fake's base URL (`.../v1`)."""
    with ThreadedServer(FakeOpenAI().app) as server:
        yield f"{server.base_url}/v1"


def gateway_config(database_url: str, upstream_url: str, **ledger: Any) -> dict[str, Any]:
    """Two keys in two tenants, a priced model, an unpriced one, a failing one, the mock."""
    return {
        "storage": {"database_url": database_url},
        "admin": {"key": ADMIN_KEY},
        "ledger": {"flush_interval_ms": 60_000, **ledger},  # tests flush when they read
        "providers": {
            "mock": {"type": "mock"},
            "oai": {"type": "openai", "base_url": upstream_url, "api_key": "sk-upstream"},
        },
        "models": [
            {"name": "echo", "provider": "mock"},
            {"name": "gpt-4o-mini", "provider": "oai"},  # the built-in table prices it
            {"name": "mystery", "provider": "oai", "model": "mystery-model"},  # no price
            {"name": "broken", "provider": "oai", "model": "fail-503"},
        ],
        "keys": [
            {"tenant": "acme", "key": KEY_A, "name": "alice"},
            {"tenant": "beta", "key": KEY_B, "name": "bob"},
        ],
    }
