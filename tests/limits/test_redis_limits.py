"""The Redis limiter: the same limits, counted in Redis (one script per check)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.conftest import REDIS_URL
from tests.limits.support import AUTH, chat, config, serve


def _redis(tmp_path: Path, **key_limits: int) -> dict[str, object]:
    settings = config(tmp_path, key_limits=key_limits)
    settings["storage"] = {**settings["storage"], "redis_url": REDIS_URL}
    return settings


def test_requests_are_counted_in_redis(tmp_path: Path) -> None:
    with serve(_redis(tmp_path, rpm=3)) as url, \
            httpx.Client(base_url=url, headers=AUTH) as client:
        statuses = [chat(client).status_code for _ in range(4)]
        refused = chat(client)
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"]["type"] == "requests"
    assert 55 <= float(refused.headers["retry-after-ms"]) / 1000 <= 60.2


def test_tokens_are_reserved_and_settled_in_redis(tmp_path: Path) -> None:
    with serve(_redis(tmp_path, tpm=1000)) as url, \
            httpx.Client(base_url=url, headers=AUTH) as client:
        first = chat(client, max_tokens=500)
        used = first.json()["usage"]["total_tokens"]
        deadline = time.monotonic() + 5
        while True:  # the settle is sent off the request path, just after the response
            probe = chat(client, "x", max_tokens=985)
            found = re.search(r"used (\d+),", probe.json()["error"]["message"])
            assert found is not None, probe.text
            if int(found.group(1)) == used or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert first.headers["x-ratelimit-remaining-tokens"] == str(1000 - 8 - 500)
    assert int(found.group(1)) == used
