"""Reading the gateway's JSON log lines out of its captured output."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.servers import GatewayProcess


def log_records(gateway: GatewayProcess) -> list[dict[str, Any]]:
    """Every JSON line the gateway has written so far."""
    records = []
    for line in gateway.logs().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def request_record(
    gateway: GatewayProcess, request_id: str, timeout: float = 3.0
) -> dict[str, Any]:
    """The one `request` line for `request_id` (waits: it is written as the response ends)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            record
            for record in log_records(gateway)
            if record.get("event") == "request" and record.get("request_id") == request_id
        ]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{len(found)} log lines for {request_id}"
            return found[0]
        time.sleep(0.02)
