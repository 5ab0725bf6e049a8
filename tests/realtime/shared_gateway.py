"""One gateway for the realtime, agent messages, playground and client tests, started
once per test run, on a fresh PostgreSQL database.

Starting a gateway costs seconds (most of it importing the app), so the modules that can
live with the same configuration share this one; each uses its own conversation ids,
agent ids and sessions, so they do not see each other. It is stopped (and its database
dropped) when pytest ends. The agent messages tests restart it once.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest

from tests.support.databases import database_url
from tests.support.servers import GatewayProcess, run_gateway

KEY = "sk-rt-acme-0001"
OTHER_TENANT_KEY = "sk-rt-beta-0002"
NO_CALCULATOR_KEY = "sk-rt-acme-0003"  # acme's, but its policy denies the calculator
CONFIG: dict[str, Any] = {
    "providers": {"mock": {"type": "mock"}, "slowmock": {"type": "mock", "stream_delay_ms": 100}},
    "models": [
        {"name": "mock", "provider": "mock"},
        {"name": "echo", "provider": "mock"},
        {"name": "slow-echo", "provider": "slowmock", "model": "echo"},
    ],
    "keys": [{"tenant": "acme", "key": KEY}, {"tenant": "beta", "key": OTHER_TENANT_KEY},
             {"tenant": "acme", "key": NO_CALCULATOR_KEY, "name": "no-calculator"}],
    "tools": {"keys": {"no-calculator": {"deny": ["calculator"]}}},
    # one worker and a waiting line of one, so that the busy path is easy to reach;
    # a small send queue, so that a stalled participant overflows it quickly
    "realtime": {"workers": 1, "turn_queue_size": 1, "send_queue_size": 16,
                 "max_message_bytes": 4 * 1024 * 1024},
}

_GATEWAY = pytest.StashKey[GatewayProcess]()


def shared_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    """The shared gateway, started on first use and stopped at the end of the run."""
    stash = request.config.stash
    if _GATEWAY not in stash:
        stack = ExitStack()
        request.config.add_cleanup(stack.close)
        tmp_path = tmp_path_factory.mktemp("shared-gateway")
        url = stack.enter_context(database_url("postgres", tmp_path))
        config = {**CONFIG, "storage": {"database_url": url}}
        stash[_GATEWAY] = stack.enter_context(run_gateway(tmp_path, config))
    return stash[_GATEWAY]
