"""kill -9 with ledger rows queued: what was flushed is there (and only the newest rows are
lost); with a short flush interval the loss window is about `flush_interval_ms`.

Real `relaygate serve` processes on SQLite, read with the standard library's sqlite3."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import GatewayProcess, run_gateway

CHAT = {"model": "echo", "messages": [{"role": "user", "content": "ledger me"}]}


def _config(tmp_path: Path, **ledger: Any) -> tuple[dict[str, Any], Path]:
    path = tmp_path / "ledger.db"
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{path}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "echo", "provider": "mock"}],
        "ledger": ledger,
    }, path


def _written(path: Path) -> list[tuple[str, float]]:
    """(request id, time) of every ledger row, oldest first."""
    with sqlite3.connect(path) as connection:
        return list(connection.execute("select request_id, at from usage_ledger order by id"))


def _send(gateway: GatewayProcess, client: httpx.Client) -> tuple[str, float]:
    reply = client.post(f"{gateway.base_url}/v1/chat/completions", json=CHAT)
    assert reply.status_code == 200
    return reply.headers["x-request-id"], time.time()


def test_flushed_batches_survive_kill_9(tmp_path: Path) -> None:
    """A long interval: only full batches (10 rows) are flushed before the kill."""
    config, path = _config(tmp_path, flush_interval_ms=600_000, batch_rows=10)
    with run_gateway(tmp_path, config) as gateway, httpx.Client() as client:
        sent = [_send(gateway, client)[0] for _ in range(25)]
        deadline = time.monotonic() + 10
        while len(_written(path)) < 20:  # two batches' flushes, in the other process
            assert time.monotonic() < deadline, gateway.logs()[-3000:]
            time.sleep(0.02)
        flushed = [request_id for request_id, _ in _written(path)]
        gateway.stop(signal.SIGKILL)
    after = [request_id for request_id, _ in _written(path)]
    assert after == flushed == sent[: len(flushed)]  # the flushed rows, and the oldest
    assert 25 - len(after) < 10  # less than one batch lost


def test_the_loss_window_is_about_the_flush_interval(tmp_path: Path) -> None:
    interval = 0.2
    config, path = _config(tmp_path, flush_interval_ms=int(interval * 1000))
    with run_gateway(tmp_path, config) as gateway, httpx.Client() as client:
        sent = []
        started = time.monotonic()
        while time.monotonic() - started < 2.0:
            sent.append(_send(gateway, client))
        killed_at = time.time()
        gateway.stop(signal.SIGKILL)
    written = _written(path)
    assert [request_id for request_id, _ in written] == [r for r, _ in sent[: len(written)]]
    lost = sent[len(written):]
    window = killed_at - lost[0][1] if lost else 0.0  # how long the oldest lost row waited
    rate = len(sent) / 2.0
    print(f"\nloss window: {len(lost)} of {len(sent)} rows lost ({rate:.0f} req/s), "
          f"the oldest lost row queued {window * 1000:.0f} ms before the kill "
          f"(flush_interval_ms={interval * 1000:.0f})")
    assert window <= interval + 0.15  # an interval, plus one flush's write
