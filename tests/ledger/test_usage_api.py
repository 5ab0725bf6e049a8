"""`GET /admin/usage` (grouping, from/to, CSV, bad parameters, the admin key) and
`GET /v1/usage` (a key sees its own rows only), read back after real calls."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.ledger.conftest import ADMIN_KEY, KEY_A, KEY_B, gateway_config
from tests.support.in_process import InProcess, in_process

ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}
KEY_A_ID = hashlib.sha256(KEY_A.encode()).hexdigest()[:12]
KEY_B_ID = hashlib.sha256(KEY_B.encode()).hexdigest()[:12]


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture
async def served(tmp_path: Any, upstream: str) -> AsyncIterator[InProcess]:
    """Key A: gpt-4o-mini twice and the mock once; key B: the unpriced model once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"
    async with in_process(gateway_config(url, upstream)) as gateway:
        calls = [("gpt-4o-mini", KEY_A), ("gpt-4o-mini", KEY_A), ("echo", KEY_A),
                 ("mystery", KEY_B)]
        for model, key in calls:
            body = {"model": model, "messages": [{"role": "user", "content": "one two three"}]}
            reply = await gateway.client.post("/v1/chat/completions", json=body,
                                              headers=_bearer(key))
            assert reply.status_code == 200, reply.text
        yield gateway


async def _usage(gateway: InProcess, query: str, headers: dict[str, str] = ADMIN,
                 path: str = "/admin/usage") -> dict[str, Any]:
    reply = await gateway.client.get(f"{path}?{query}", headers=headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def _by(body: dict[str, Any], field: str) -> dict[str, dict[str, Any]]:
    return {row[field]: row for row in body["data"]}


async def test_totals_by_every_group(served: InProcess) -> None:
    tenants = _by(await _usage(served, "group_by=tenant"), "tenant")
    assert {name: row["requests"] for name, row in tenants.items()} == {"acme": 3, "beta": 1}
    assert tenants["acme"]["cost_usd"] > 0
    assert tenants["beta"]["cost_usd"] is None  # its only model has no price

    keys = _by(await _usage(served, "group_by=key"), "key_id")
    assert {key: row["requests"] for key, row in keys.items()} == {KEY_A_ID: 3, KEY_B_ID: 1}

    models = _by(await _usage(served, "group_by=model"), "model")
    assert {name: row["requests"] for name, row in models.items()} == {
        "gpt-4o-mini": 2, "echo": 1, "mystery": 1}
    mini = models["gpt-4o-mini"]
    assert mini["cost_usd"] == pytest.approx(
        (mini["input_tokens"] * 0.15 + mini["output_tokens"] * 0.60) / 1_000_000)
    assert models["echo"]["cost_usd"] == 0.0 and models["mystery"]["cost_usd"] is None

    providers = _by(await _usage(served, "group_by=provider"), "provider")
    assert {name: row["requests"] for name, row in providers.items()} == {"oai": 3, "mock": 1}

    body = await _usage(served, "group_by=day")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert [row["day"] for row in body["data"]] == [today] and body["total"]["requests"] == 4
    assert body["total"]["cost_usd"] == pytest.approx(mini["cost_usd"])


async def test_from_and_to(served: InProcess) -> None:
    now = datetime.now(UTC)
    today, tomorrow = now.date(), (now + timedelta(days=1)).date()
    yesterday = (now - timedelta(days=1)).date()
    assert (await _usage(served, f"from={tomorrow}"))["data"] == []
    assert (await _usage(served, f"to={yesterday}"))["data"] == []
    body = await _usage(served, f"from={today}&to={today}")  # a date as `to`: that whole day
    assert body["total"]["requests"] == 4
    assert body["from"] == f"{today}T00:00:00Z" and body["to"] == f"{tomorrow}T00:00:00Z"
    hour_ago = int(now.timestamp()) - 3600
    assert (await _usage(served, f"from={hour_ago}"))["total"]["requests"] == 4
    iso = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await _usage(served, f"from={iso}"))["total"]["requests"] == 0
    assert (await _usage(served, f"to={iso}"))["total"]["requests"] == 4


async def test_csv(served: InProcess) -> None:
    reply = await served.client.get("/admin/usage?group_by=model&format=csv", headers=ADMIN)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert reply.text.splitlines()[0] == (
        "model,requests,input_tokens,output_tokens,cached_tokens,cost_usd,cache_hits,saved_usd")
    by_model = {row["model"]: row for row in rows}
    assert by_model["gpt-4o-mini"]["requests"] == "2"
    assert float(by_model["gpt-4o-mini"]["cost_usd"]) > 0
    assert by_model["mystery"]["cost_usd"] == ""  # unknown, not 0
    assert (by_model["gpt-4o-mini"]["cache_hits"], by_model["gpt-4o-mini"]["saved_usd"]) == (
        "0", "")  # no cache hit: nothing saved


@pytest.mark.parametrize(("query", "param"), [
    ("group_by=colour", "group_by"),
    ("format=xml", "format"),
    ("from=last-tuesday", "from"),
    ("to=2025-02-30", "to"),
    ("from=2025-03-02&to=2025-03-01", "to"),
])
async def test_bad_parameters_are_400_naming_them(
    served: InProcess, query: str, param: str
) -> None:
    reply = await served.client.get(f"/admin/usage?{query}", headers=ADMIN)
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == param
    assert f"'{param}'" in reply.json()["error"]["message"]


async def test_the_admin_key_is_required(served: InProcess) -> None:
    assert (await served.client.get("/admin/usage")).status_code == 401
    wrong = await served.client.get("/admin/usage", headers=_bearer("not-the-admin-key-at-all"))
    assert wrong.status_code == 401
    as_a_key = await served.client.get("/admin/usage", headers=_bearer(KEY_A))
    assert as_a_key.status_code == 401  # an API key is not the admin key


async def test_a_key_sees_its_own_usage_only(served: InProcess) -> None:
    own = _by(await _usage(served, "group_by=model", _bearer(KEY_A), "/v1/usage"), "model")
    assert {name: row["requests"] for name, row in own.items()} == {"gpt-4o-mini": 2, "echo": 1}
    other = await _usage(served, "group_by=provider", _bearer(KEY_B), "/v1/usage")
    assert [(row["provider"], row["requests"]) for row in other["data"]] == [("oai", 1)]
    assert other["total"]["cost_usd"] is None
    by_day = await _usage(served, "group_by=day&format=json", _bearer(KEY_B), "/v1/usage")
    assert by_day["total"]["requests"] == 1
    tenant = await served.client.get("/v1/usage?group_by=tenant", headers=_bearer(KEY_A))
    assert tenant.status_code == 400 and tenant.json()["error"]["param"] == "group_by"
    assert (await served.client.get("/v1/usage")).status_code == 401
