"""When the shared counters cannot be reached (Redis stopped), a hard budget refuses with
503 `budget_unavailable` rather than letting spend go uncounted — once the allowance this
instance took before (already counted in Redis) is used up; a soft budget fails open."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.budgets.support import PRICED, config, new_key
from tests.support.own_redis import own_redis
from tests.support.servers import GatewayProcess, run_gateway

HARD = new_key()
SOFT = new_key()
BODY = {"model": PRICED, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    with own_redis(tmp_path) as port:
        yield port


@pytest.fixture
def gateway(tmp_path: Path, redis_port: int) -> Iterator[GatewayProcess]:
    keys = [
        {"tenant": "hard", "key": HARD, "budget": {"max_usd": 1, "period": "day"}},
        {"tenant": "soft", "key": SOFT, "budget": {"max_usd": 1, "mode": "soft"}},
    ]
    storage = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}",
               "redis_url": f"redis://127.0.0.1:{redis_port}/0"}
    with run_gateway(tmp_path, config(keys, storage=storage)) as process:
        yield process


def _post(gateway: GatewayProcess, key: str) -> httpx.Response:
    return httpx.post(f"{gateway.base_url}/v1/chat/completions", json=BODY, timeout=30,
                      headers={"Authorization": f"Bearer {key}"})


def test_hard_budgets_refuse_and_soft_ones_serve_while_redis_is_down(
    gateway: GatewayProcess, redis_port: int
) -> None:
    assert _post(gateway, HARD).status_code == 200  # counted in Redis
    subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"],
                   capture_output=True)
    served_from_allowance = 0
    while (refused := _post(gateway, HARD)).status_code == 200 and served_from_allowance < 500:
        served_from_allowance += 1
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "budget_unavailable"
    assert _post(gateway, SOFT).status_code == 200
    assert "Traceback" not in refused.text
