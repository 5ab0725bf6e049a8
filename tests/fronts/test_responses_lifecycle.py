"""What a user sees around a response's life: whose usage it carries, what a dropped
non-background stream leaves behind, and cancel from another gateway instance."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.responses_gateway import KEY_A, ResponsesGateway
from tests.support.responses_schema import parse_frames, validate, validate_events
from tests.support.servers import run_gateway

HEADERS = {"Authorization": f"Bearer {KEY_A}"}
SOURCE = "X-Relaygate-Usage-Source"


def _words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


def _settled(http: httpx.Client, url: str) -> dict[str, Any]:
    """The stored response once it has left queued / in_progress."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        body: dict[str, Any] = http.get(url).json()
        if body.get("status") not in ("queued", "in_progress"):
            return body
        time.sleep(0.05)
    raise TimeoutError(url)


@pytest.mark.parametrize(("model", "source"), [("fake-gpt", "upstream"),
                                               ("bare-gpt", "estimated")])
def test_usage_source_header_and_field(rgw: ResponsesGateway, model: str, source: str) -> None:
    client = rgw.client()
    raw = client.responses.with_raw_response.create(model=model, input="count me")
    body = raw.http_response.json()
    validate("ResponseResource", body)
    assert raw.http_response.headers[SOURCE] == source
    assert body["usage"]["relaygate_usage_source"] == source
    assert body["usage"]["output_tokens"] > 0
    with client.responses.stream(model=model, input="count me too") as stream:
        final = stream.get_final_response()
    assert final.usage is not None
    assert final.usage.model_extra == {"relaygate_usage_source": source}


def test_dropped_stream_stops_the_run_and_keeps_it_incomplete(rgw: ResponsesGateway) -> None:
    seen: list[dict[str, Any]] = []
    with httpx.Client(base_url=rgw.base_url, headers=HEADERS, timeout=20) as http:
        body = {"model": "slow", "input": _words(400), "stream": True, "store": True}
        with http.stream("POST", "/v1/responses", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    seen.append(json.loads(line[6:]))
                if sum(e["type"] == "response.output_text.delta" for e in seen) >= 5:
                    break  # the client goes away mid-answer
        response_id = seen[0]["response"]["id"]
        stored = _settled(http, f"/v1/responses/{response_id}")
        validate("ResponseResource", stored)
        assert stored["status"] == "incomplete"
        assert stored["incomplete_details"] == {"reason": "interrupted"}
        text = stored["output"][0]["content"][0]["text"]
        assert text.startswith("w0 w1 w2 w3") and len(text) < len(_words(400))
        time.sleep(0.3)  # a run that went on would have written more by now
        assert http.get(f"/v1/responses/{response_id}").json() == stored
        chained = http.post("/v1/responses", json={
            "model": "echo", "input": "next", "previous_response_id": response_id,
        })
        assert chained.status_code == 200, chained.text


def test_dropped_stream_without_store_leaves_nothing(rgw: ResponsesGateway) -> None:
    with httpx.Client(base_url=rgw.base_url, headers=HEADERS, timeout=20) as http:
        body = {"model": "slow", "input": _words(400), "stream": True, "store": False}
        with http.stream("POST", "/v1/responses", json=body) as response:
            first = next(line for line in response.iter_lines() if line.startswith("data: {"))
        response_id = json.loads(first[6:])["response"]["id"]
        time.sleep(0.2)
        assert http.get(f"/v1/responses/{response_id}").status_code == 404


@pytest.mark.parametrize("rgw", ["postgres"], indirect=True)
def test_cancel_on_another_instance(rgw: ResponsesGateway, tmp_path: Path) -> None:
    """Two instances on one PostgreSQL and one Redis: a cancel sent to the second stops
    the run on the first (over the bus), and both then report it cancelled."""
    with run_gateway(tmp_path, rgw.config) as second, \
            httpx.Client(headers=HEADERS, timeout=20) as http:
        body = {"model": "slow", "input": _words(400), "background": True}
        created = http.post(f"{rgw.base_url}/v1/responses", json=body).json()
        time.sleep(0.3)
        started = time.monotonic()
        cancelled = http.post(f"{second.base_url}/v1/responses/{created['id']}/cancel")
        assert time.monotonic() - started < 3
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        on_first = http.get(f"{rgw.base_url}/v1/responses/{created['id']}").json()
        events = parse_frames(http.get(f"{rgw.base_url}/v1/responses/{created['id']}",
                                       params={"stream": "true"}).content)
    assert on_first["status"] == "cancelled"
    validate_events(events)
    assert events[-1]["error"]["code"] == "response_cancelled"
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert 0 < len(text) < len(_words(400))
