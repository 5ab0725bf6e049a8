"""The issue's test: two `relaygate serve` processes on one PostgreSQL and one Redis (and
again on PostgreSQL alone, the counters in the database), a hard budget of N calls' worth,
20 concurrent clients spread over both: the spend overshoots the budget by at most one
call, and once settled the shared counter holds the real cost."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from relaygate.budgets.counters import NANO_PER_USD, BudgetCounters, to_nano
from relaygate.budgets.redis_counters import RedisCounters
from relaygate.budgets.sql_counters import SqlCounters
from relaygate.control_settings import BudgetPeriod
from relaygate.store.db import Database
from relaygate.tokens.estimate import estimate_prompt
from relaygate.types import Message, Role, TextPart
from tests.budgets.support import PRICED, config, cost, new_key
from tests.conftest import REDIS_URL
from tests.support.databases import database_url
from tests.support.servers import GatewayProcess, run_gateway

N = 12  # calls' worth of budget
CLIENTS = 20
BODY = {"model": PRICED, "max_tokens": 8, "messages": [{"role": "user", "content": "a b c d"}]}
PROMPT = [Message(role=Role.USER, content=[TextPart("a b c d")])]
ONE_CALL_USD = cost(estimate_prompt(PROMPT, [], "echo"), 4)
BUDGET_USD = round(N * ONE_CALL_USD, 9)


@dataclass
class Instances:
    gateways: list[GatewayProcess]
    key: str
    database_url: str
    redis: bool

    @property
    def owner(self) -> str:
        return f"key:{hashlib.sha256(self.key.encode()).hexdigest()[:12]}"


@pytest.fixture(params=["redis", "postgres"])
def instances(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instances]:
    key = new_key()
    keys = [{"tenant": "shared", "key": key,
             "budget": {"max_usd": BUDGET_USD, "period": "total"}}]
    with ExitStack() as stack:
        url = stack.enter_context(database_url("postgres", tmp_path))
        storage = {"database_url": url}
        if request.param == "redis":
            storage["redis_url"] = REDIS_URL
        processes = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            processes.append(stack.enter_context(
                run_gateway(tmp_path / name, config(keys, storage=storage))))
        yield Instances(processes, key, url, request.param == "redis")


async def _client(base_url: str, key: str, spent: list[float], refused: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {key}"}) as api:
        while True:
            reply = await api.post("/v1/chat/completions", json=BODY)
            if reply.status_code == 429:
                refused.append(reply.json()["error"]["code"])
                return
            assert reply.status_code == 200, reply.text
            usage = reply.json()["usage"]
            spent.append(cost(usage["prompt_tokens"], usage["completion_tokens"]))


async def _settled_counter(instances: Instances, expected_nano: int) -> int:
    """The shared counter, once it holds `expected_nano` (or after 4 s)."""
    redis = Redis.from_url(REDIS_URL) if instances.redis else None
    database = Database(instances.database_url)

    async def opened() -> Database:
        return database

    counters: BudgetCounters = RedisCounters(redis) if redis is not None else SqlCounters(opened)
    try:
        for _ in range(200):  # the last outcomes settle just after their responses
            spent = await counters.spent(instances.owner, BudgetPeriod.TOTAL)
            if round(spent.usd * NANO_PER_USD) == expected_nano:
                break
            await asyncio.sleep(0.02)
        return round(spent.usd * NANO_PER_USD)
    finally:
        await database.close()
        if redis is not None:
            keys = [key async for key in redis.scan_iter(f"relaygate:budget:*{instances.owner}:*")]
            await redis.delete(*keys)  # the counter and the alerts claimed
            await redis.aclose()


def test_twenty_clients_on_two_instances_overshoot_by_at_most_one_call(
    instances: Instances,
) -> None:
    spent: list[float] = []
    refused: list[str] = []

    async def run() -> int:
        await asyncio.gather(*(
            _client(instances.gateways[index % 2].base_url, instances.key, spent, refused)
            for index in range(CLIENTS)
        ))
        return await _settled_counter(instances, sum(to_nano(usd) for usd in spent))

    counter_nano = asyncio.run(run())
    total = sum(spent)
    per_call = total / len(spent)
    overshoot_calls = (total - BUDGET_USD) / per_call
    backend = "redis" if instances.redis else "postgres"
    print(f"\n{backend}: budget ${BUDGET_USD:.9f} (~{BUDGET_USD / per_call:.1f} calls), "
          f"{len(spent)} calls served for ${total:.9f}, overshoot {overshoot_calls:+.2f} calls, "
          f"{len(refused)} clients refused")
    assert refused == ["budget_exceeded"] * CLIENTS
    assert overshoot_calls <= 1.0
    assert len(spent) >= N // 2  # the budget is used, not refused early
    assert counter_nano == sum(to_nano(usd) for usd in spent)  # settled to the real cost
