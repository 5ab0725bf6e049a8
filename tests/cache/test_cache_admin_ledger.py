"""What a hit leaves behind: the ledger's row marked as a hit with what it saved, the
metrics, and `DELETE /admin/cache` by tenant, by model, or all."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.cache.conftest import Upstreams, cache_gateway
from tests.cache.test_cache_sdk import ACME, GLOBEX, ask, sdk

ADMIN = "admin-key-for-cache-tests-0123"


def test_a_hit_is_in_the_ledger_with_its_saving_and_in_the_metrics(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = upstreams.config(admin={"key": ADMIN}, ledger={"flush_interval_ms": 50})
    with cache_gateway(tmp_path, config) as gateway:
        client = sdk(gateway.base_url)
        assert [ask(client)[1] for _ in range(3)] == ["miss", "hit", "hit"]
        admin = httpx.Client(base_url=gateway.base_url,
                             headers={"Authorization": f"Bearer {ADMIN}"})
        deadline = time.monotonic() + 10
        while True:
            usage = admin.get("/admin/usage", params={"group_by": "model"}).json()
            if usage["total"]["requests"] == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        total = usage["total"]
        assert (total["requests"], total["cache_hits"]) == (3, 2)
        cost = total["cost_usd"]
        assert cost > 0 and abs(total["saved_usd"] - 2 * cost) < 1e-12  # each hit saved one
        metrics = httpx.get(f"{gateway.base_url}/metrics").text
        assert 'relaygate_cache_hits_total{kind="exact",model="gpt"} 2.0' in metrics
        assert 'relaygate_cache_misses_total{model="gpt"} 1.0' in metrics
        assert 'relaygate_requests_total{model="gpt",provider="oai",status="200",tenant="acme"} ' \
            '1.0' in metrics  # hits are not upstream calls


def test_admin_clears_all_a_tenant_or_a_model(tmp_path: Path, upstreams: Upstreams) -> None:
    with cache_gateway(tmp_path, upstreams.config(admin={"key": ADMIN})) as gateway:
        admin = httpx.Client(base_url=gateway.base_url,
                             headers={"Authorization": f"Bearer {ADMIN}"})

        def fill() -> None:
            for key in (ACME, GLOBEX):
                ask(sdk(gateway.base_url, key))
                ask(sdk(gateway.base_url, key), model="claude", max_tokens=20)

        def cached(key: str, model: str = "gpt") -> bool:
            extra = {"max_tokens": 20} if model == "claude" else {}
            return ask(sdk(gateway.base_url, key), model=model, **extra)[1] == "hit"

        fill()
        cleared = admin.delete("/admin/cache", params={"tenant": "acme"}).json()
        assert cleared["removed"] == 2
        assert not cached(ACME) and not cached(ACME, "claude")  # (these fill acme again)
        assert cached(GLOBEX) and cached(GLOBEX, "claude")
        assert admin.delete("/admin/cache", params={"model": "claude"}).json()["removed"] == 2
        assert cached(ACME) and not cached(GLOBEX, "claude")
        assert admin.delete("/admin/cache").json()["removed"] == 3  # acme's gpt, globex's two
        assert not cached(ACME) and not cached(GLOBEX)
        assert httpx.delete(f"{gateway.base_url}/admin/cache").status_code == 401
        audit = admin.get("/admin/audit", params={"action": "cache.cleared"}).json()
        assert len(audit["data"]) == 3


def test_the_admin_endpoint_says_when_the_cache_is_off(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = upstreams.config(admin={"key": ADMIN})
    config["cache"] = {"enabled": False}
    with cache_gateway(tmp_path, config) as gateway:
        reply = httpx.delete(f"{gateway.base_url}/admin/cache",
                             headers={"Authorization": f"Bearer {ADMIN}"})
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "cache_off"
        assert ask(sdk(gateway.base_url))[1] is None
