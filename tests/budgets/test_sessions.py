"""Session turns, and every step of their agent loop, count against the key that started
them: a two-step tool turn settles both model calls into the key's budget, and a key whose
hard budget cannot hold a turn is refused with 429 budget_exceeded."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from relaygate.budgets.counters import NANO_PER_USD
from relaygate.budgets.sql_counters import SqlCounters
from relaygate.control_settings import BudgetPeriod
from relaygate.store.db import Database
from tests.budgets.support import PRICED, config, cost, new_key, wait_for
from tests.support.servers import GatewayProcess, run_gateway
from tests.support.sessions import create_session, history_of

ROOMY = new_key()
TIGHT = new_key()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, str]]:
    tmp: Path = tmp_path_factory.mktemp("budget-sessions")
    url = f"sqlite+aiosqlite:///{tmp / 'relaygate.db'}"
    keys = [
        {"tenant": "roomy", "key": ROOMY,
         "budget": {"max_usd": 10, "period": "day", "mode": "soft"}},
        {"tenant": "tight", "key": TIGHT, "budget": {"max_tokens": 50, "period": "day"}},
    ]
    settings = config(keys, storage={"database_url": url})
    settings["models"].append({"name": "priced-mock", "provider": "mock", "model": "mock",
                               "input_price_per_mtok": 1.0, "output_price_per_mtok": 2.0})
    with run_gateway(tmp, settings) as process:
        yield process, url


def _spent(url: str, key: str) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        database = Database(url)

        async def opened() -> Database:
            return database

        try:
            owner = f"key:{hashlib.sha256(key.encode()).hexdigest()[:12]}"
            spent = await SqlCounters(opened).spent(owner, BudgetPeriod.DAY)
        finally:
            await database.close()
        return round(spent.usd * NANO_PER_USD), spent.tokens

    return asyncio.run(read())


def test_every_step_of_a_tool_turn_counts_against_the_key(
    gateway: tuple[GatewayProcess, str],
) -> None:
    process, url = gateway
    with httpx.Client(base_url=process.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {ROOMY}"}) as api:
        session_id = create_session(api, model="priced-mock", tools=["calculator"])
        reply = api.post(f"/api/sessions/{session_id}/messages",
                         json={"message": "Calculate 5 + 3"})
        assert reply.status_code == 200, reply.text
        history = history_of(api, session_id)
    steps = [message["usage"] for message in history if message["role"] == "assistant"]
    assert len(steps) == 2  # the tool call, then the answer: two model calls
    tokens = sum(step["input_tokens"] + step["output_tokens"] for step in steps)
    nano = sum(round(cost(step["input_tokens"], step["output_tokens"]) * NANO_PER_USD)
               for step in steps)
    assert wait_for(lambda: _spent(url, ROOMY) == (nano, tokens)), _spent(url, ROOMY)


def test_a_turn_the_hard_budget_cannot_hold_is_refused(
    gateway: tuple[GatewayProcess, str],
) -> None:
    process, url = gateway
    with httpx.Client(base_url=process.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {TIGHT}"}) as api:
        session_id = create_session(api, model=PRICED)
        reply = api.post(f"/api/sessions/{session_id}/messages", json={"message": "hello"})
    assert reply.status_code == 429, reply.text
    assert reply.json()["error"]["code"] == "budget_exceeded"
    assert _spent(url, TIGHT) == (0, 0)  # refused before it was sent, nothing held
