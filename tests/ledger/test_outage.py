"""A database outage never fails a request: rows wait in the queue, the flush is retried
with backoff, and they are written once the database is back; a full queue drops new
rows and counts them."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from relaygate.store.schema import upgrade
from tests.ledger.conftest import ADMIN_KEY, KEY_A, gateway_config
from tests.support.in_process import InProcess, in_process
from tests.support.servers import free_port

CHAT = {"model": "echo", "messages": [{"role": "user", "content": "still served"}]}
HEADERS = {"authorization": f"Bearer {KEY_A}"}


async def _metric(gateway: InProcess, name: str) -> float:
    text = (await gateway.client.get("/metrics")).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == name)


async def test_rows_wait_through_an_outage_and_are_written_after(
    database: str, upstream: str
) -> None:
    """The table is missing (the schema not migrated): every flush fails until it is."""
    config = gateway_config(database, upstream, flush_interval_ms=20)
    async with in_process(config, migrate=False) as gateway:
        for _ in range(5):
            reply = await gateway.client.post("/v1/chat/completions", json=CHAT, headers=HEADERS)
            assert reply.status_code == 200
        ledger = gateway.gateway.ledger
        assert ledger is not None
        async with asyncio.timeout(10):
            assert not await ledger.next_flush()
            assert not await ledger.next_flush()  # retried, failed again
        assert await _metric(gateway, "relaygate_ledger_flush_failures_total") >= 2
        assert ledger.queued == 5 and await _metric(gateway, "relaygate_ledger_rows_queued") == 5
        await upgrade(database)  # the database is back
        async with asyncio.timeout(10):
            while not await ledger.next_flush():  # the background retry writes them
                pass
        assert ledger.queued == 0
        assert await _metric(gateway, "relaygate_ledger_rows_written_total") == 5
        admin = {"authorization": f"Bearer {ADMIN_KEY}"}
        reply = await gateway.client.get("/admin/usage?group_by=tenant", headers=admin)
        [acme] = reply.json()["data"]
        assert (acme["tenant"], acme["requests"], acme["cost_usd"]) == ("acme", 5, 0.0)


async def test_a_full_queue_drops_new_rows_and_counts_them(upstream: str) -> None:
    """PostgreSQL on a closed port: nothing can be written; the queue holds 3 rows. One log
    line for the outage and one for the overflow, however many flushes and drops."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    config = gateway_config(url, upstream, queue_rows=3, flush_interval_ms=20)
    async with in_process(config, migrate=False) as gateway:
        ledger = gateway.gateway.ledger
        assert ledger is not None
        with capture_logs() as logs:
            started = time.monotonic()
            for _ in range(5):
                reply = await gateway.client.post("/v1/chat/completions", json=CHAT,
                                                  headers=HEADERS)
                assert reply.status_code == 200
            assert time.monotonic() - started < 5  # never waiting on the database
            async with asyncio.timeout(10):
                assert not await ledger.next_flush()
                assert not await ledger.next_flush()
        events = [log["event"] for log in logs if log["event"].startswith("ledger")]
        assert sorted(event.split(":")[0] for event in events) == [
            "ledger database unavailable", "ledger queue full"]
        assert (ledger.queued, ledger.dropped) == (3, 2)
        assert await _metric(gateway, "relaygate_ledger_rows_dropped_total") == 2
        assert await _metric(gateway, "relaygate_ledger_rows_queued") == 3
