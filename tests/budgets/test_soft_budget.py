"""A soft budget lets calls through, tells the remaining budget in
`x-relaygate-budget-remaining`, and crossing 50, 80 and 100 % alerts once each: a log line,
the `relaygate_budget_alerts_total` metric and a POST to the webhook (a real receiver)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.budgets.support import PRICED, config, new_key
from tests.support.metrics import metric
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

SOFT = new_key()
HARD = new_key()
BODY = {"model": PRICED, "max_tokens": 5,
        "messages": [{"role": "user", "content": "one two three"}]}


class Receiver:
    """A webhook endpoint that queues every alert POSTed to it."""

    def __init__(self) -> None:
        self.alerts: queue.Queue[dict[str, Any]] = queue.Queue()

        async def receive(request: Request) -> Response:
            self.alerts.put(await request.json())
            return Response(status_code=204)

        self.app = Starlette(routes=[Route("/hooks/budget/s3cr3t-token", receive,
                                           methods=["POST"])])

    def take(self, count: int, mode: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The next `count` alerts of a budget `mode` (each test has one such key), by
        threshold (several may be in flight at once)."""
        got: list[dict[str, Any]] = []
        while len(got) < count:
            alert = self.alerts.get(timeout=timeout)
            if alert["mode"] == mode:
                got.append(alert)
        return sorted(got, key=lambda alert: int(alert["threshold_percent"]))


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with ThreadedServer(receiver.app) as server:
        yield receiver, f"{server.base_url}/hooks/budget/s3cr3t-token"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory,
            receiver: tuple[Receiver, str]) -> Iterator[GatewayProcess]:
    keys = [
        {"tenant": "soft", "key": SOFT,
         "budget": {"max_tokens": 100, "period": "week", "mode": "soft"}},
        {"tenant": "hard", "key": HARD, "budget": {"max_tokens": 200, "period": "week"}},
    ]
    settings = config(keys, budgets={"webhook_url": receiver[1]})
    with run_gateway(tmp_path_factory.mktemp("soft"), settings) as process:
        yield process


def test_soft_budget_goes_past_its_cap_and_alerts_once_per_threshold(
    gateway: GatewayProcess, receiver: tuple[Receiver, str]
) -> None:
    remaining: list[int] = []
    with httpx.Client(base_url=gateway.base_url, headers={"Authorization": f"Bearer {SOFT}"},
                      timeout=10) as api:
        for _ in range(40):  # each call uses ~15 tokens: the cap is passed after about 7
            reply = api.post("/v1/chat/completions", json=BODY)
            assert reply.status_code == 200, reply.text
            remaining.append(int(reply.headers["x-relaygate-budget-remaining"]))
            if remaining[-1] == 0 and len(remaining) > 1 and remaining[-2] == 0:
                break
        assert remaining[0] < 100 and remaining[-1] == 0 and remaining == sorted(remaining,
                                                                                reverse=True)
        alerts = receiver[0].take(3, mode="soft")
    assert [alert["threshold_percent"] for alert in alerts] == [50, 80, 100]
    assert all(alert["max_tokens"] == 100 for alert in alerts)
    assert len({alert["owner"] for alert in alerts}) == 1 and alerts[0]["owner"].startswith("key:")
    assert alerts[-1]["spent_tokens"] >= 100
    with httpx.Client(base_url=gateway.base_url, headers={"Authorization": f"Bearer {SOFT}"},
                      timeout=10) as api:
        for _ in range(3):  # past 100 %: no alert again
            assert api.post("/v1/chat/completions", json=BODY).status_code == 200
    with pytest.raises(queue.Empty):
        receiver[0].take(1, mode="soft", timeout=1.0)
    assert metric(gateway.base_url, "relaygate_budget_alerts_total", owner=alerts[0]["owner"],
                  mode="soft") == 3
    logged = [line for line in gateway.logs().splitlines()
              if "budget threshold crossed" in line and alerts[0]["owner"] in line]
    assert len(logged) == 3


def test_a_hard_budget_alerts_as_it_fills(gateway: GatewayProcess,
                                          receiver: tuple[Receiver, str]) -> None:
    with httpx.Client(base_url=gateway.base_url, headers={"Authorization": f"Bearer {HARD}"},
                      timeout=10) as api:
        statuses = [api.post("/v1/chat/completions", json=BODY).status_code for _ in range(20)]
    assert 200 in statuses and statuses[-1] == 429
    alerts = receiver[0].take(2, mode="hard")
    assert [alert["threshold_percent"] for alert in alerts] == [50, 80]


def test_the_webhook_secret_is_not_logged(gateway: GatewayProcess) -> None:
    assert "s3cr3t-token" not in gateway.logs()

