"""A call reserves its worst case while it runs and settles to its real cost when its
outcome arrives: a whole reply, a stream (its reservation held until it ends), a client
that goes away mid-stream (what was streamed), an upstream failure (released)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from relaygate.budgets.counters import NANO_PER_USD, Amount
from relaygate.budgets.sql_counters import SqlCounters
from relaygate.control_settings import BudgetPeriod
from relaygate.store.db import Database
from relaygate.tokens.estimate import estimate_prompt
from relaygate.types import Message, Role, TextPart
from tests.budgets.support import PRICED, config, cost, new_key, wait_for
from tests.support.servers import GatewayProcess, free_port, run_gateway

TEXT = " ".join(f"w{index}" for index in range(40))  # the echo model says it back, slowly


def _owner(key: str) -> str:
    return f"key:{hashlib.sha256(key.encode()).hexdigest()[:12]}"


class Gateway:
    def __init__(self, process: GatewayProcess, database_url: str) -> None:
        self.process = process
        self.database_url = database_url

    def spent(self, key: str) -> Amount:
        async def read() -> Amount:
            database = Database(self.database_url)

            async def opened() -> Database:
                return database

            try:
                spent = await SqlCounters(opened).spent(_owner(key), BudgetPeriod.MONTH)
            finally:
                await database.close()
            return Amount(round(spent.usd * NANO_PER_USD), spent.tokens)

        return asyncio.run(read())

    def settles_to(self, key: str, nano_usd: int) -> Amount:
        """The counter once it holds `nano_usd` (another process writes it), or as it is."""
        wait_for(lambda: self.spent(key).nano_usd == nano_usd)
        return self.spent(key)


KEYS = {name: new_key() for name in ("whole", "stream", "dropped", "failed")}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp: Path = tmp_path_factory.mktemp("settle")
    url = f"sqlite+aiosqlite:///{tmp / 'relaygate.db'}"
    keys = [{"tenant": name, "key": key, "budget": {"max_usd": 1.0, "period": "month"}}
            for name, key in KEYS.items()]
    settings = config(keys, storage={"database_url": url})
    settings["providers"]["slow"] = {"type": "mock", "stream_delay_ms": 20}
    settings["providers"]["down"] = {"type": "openai", "api_key": "sk-none",
                                     "base_url": f"http://127.0.0.1:{free_port()}/v1"}
    settings["models"] += [
        {"name": "slow-priced", "provider": "slow", "model": "echo",
         "input_price_per_mtok": 1.0, "output_price_per_mtok": 2.0},
        {"name": "down-priced", "provider": "down", "model": "gpt-4o-mini",
         "input_price_per_mtok": 1.0, "output_price_per_mtok": 2.0},
    ]
    with run_gateway(tmp, settings) as process:
        yield Gateway(process, url)


def _body(model: str, stream: bool = False) -> dict[str, object]:
    body: dict[str, object] = {"model": model, "max_tokens": 500,
                               "messages": [{"role": "user", "content": TEXT}]}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return body


def _worst_case_nano(model: str) -> int:
    prompt = [Message(role=Role.USER, content=[TextPart(TEXT)])]
    input_tokens = estimate_prompt(prompt, [], model)
    return round(cost(input_tokens, 500) * NANO_PER_USD)


def test_a_whole_reply_settles_to_its_real_cost(gateway: Gateway) -> None:
    key = KEYS["whole"]
    reply = httpx.post(f"{gateway.process.base_url}/v1/chat/completions",
                       headers={"Authorization": f"Bearer {key}"}, json=_body(PRICED), timeout=10)
    assert reply.status_code == 200, reply.text
    usage = reply.json()["usage"]
    real = round(cost(usage["prompt_tokens"], usage["completion_tokens"]) * NANO_PER_USD)
    assert gateway.settles_to(key, real) == Amount(real, usage["total_tokens"])
    assert real < _worst_case_nano("echo")


def test_a_stream_holds_its_worst_case_until_it_ends(gateway: Gateway) -> None:
    key = KEYS["stream"]
    with httpx.stream("POST", f"{gateway.process.base_url}/v1/chat/completions",
                      headers={"Authorization": f"Bearer {key}"},
                      json=_body("slow-priced", stream=True), timeout=10) as reply:
        assert float(reply.headers["x-relaygate-budget-remaining"]) < 1.0  # the reservation
        lines = reply.iter_lines()
        assert next(lines).startswith("data: ")
        # reserved, in flight: counted in the shared counter (within this instance's allowance)
        assert gateway.spent(key).nano_usd >= _worst_case_nano("echo")
        chunks = [json.loads(line[6:]) for line in lines
                  if line.startswith("data: ") and line != "data: [DONE]"]
    usage = chunks[-1]["usage"]
    real = round(cost(usage["prompt_tokens"], usage["completion_tokens"]) * NANO_PER_USD)
    assert gateway.settles_to(key, real).tokens == usage["total_tokens"]


def test_a_client_that_goes_away_pays_for_what_was_streamed(gateway: Gateway) -> None:
    key = KEYS["dropped"]
    worst = _worst_case_nano("echo")
    with httpx.stream("POST", f"{gateway.process.base_url}/v1/chat/completions",
                      headers={"Authorization": f"Bearer {key}"},
                      json=_body("slow-priced", stream=True), timeout=10) as reply:
        lines = reply.iter_lines()
        for _ in range(3):
            next(lines)
    # the gateway notices the client gone, records a 499 outcome with the streamed usage
    wait_for(lambda: 0 < gateway.spent(key).nano_usd < worst)
    spent = gateway.spent(key)
    assert 0 < spent.nano_usd < worst


def test_an_upstream_failure_releases_the_reservation(gateway: Gateway) -> None:
    key = KEYS["failed"]
    reply = httpx.post(f"{gateway.process.base_url}/v1/chat/completions",
                       headers={"Authorization": f"Bearer {key}"},
                       json=_body("down-priced"), timeout=10)
    assert reply.status_code >= 500
    assert gateway.settles_to(key, 0) == Amount(0, 0)
