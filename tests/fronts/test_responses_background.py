"""Background responses: queued at once, run on the gateway, cancellable, and a stream
that a client can drop and resume with `starting_after` without missing an event."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.support.responses_gateway import KEY_A, KEY_B, ResponsesGateway
from tests.support.responses_schema import parse_frames, validate, validate_events
from tests.support.servers import run_gateway

HEADERS = {"Authorization": f"Bearer {KEY_A}"}
SLOW_WORDS = 40  # the `slow` model says one word every 25 ms




def _words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


def _wait_done(client: openai.OpenAI, response_id: str) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = client.responses.retrieve(response_id)
        if response.status not in ("queued", "in_progress"):
            return response
        time.sleep(0.05)
    raise TimeoutError(response_id)


def test_background_returns_queued_and_completes(rgw: ResponsesGateway) -> None:
    client = rgw.client()
    raw = client.responses.with_raw_response.create(model="slow", input=_words(10),
                                                    background=True)
    body = raw.http_response.json()
    validate("ResponseResource", body)
    assert body["status"] == "queued" and body["background"] is True and body["output"] == []
    done = _wait_done(client, body["id"])
    assert done.status == "completed" and done.output_text == _words(10)
    replay = list(client.responses.retrieve(body["id"], stream=True, starting_after=0))
    assert [e.type for e in replay[:3]] == [
        "response.created", "response.queued", "response.in_progress"
    ]
    assert replay[-1].type == "response.completed"
    assert [e.sequence_number for e in replay] == list(range(1, len(replay) + 1))


def test_resume_after_a_dropped_stream_misses_nothing(rgw: ResponsesGateway) -> None:
    k = 7
    seen: list[dict[str, Any]] = []
    with httpx.Client(base_url=rgw.base_url, headers=HEADERS, timeout=20) as http:
        body = {"model": "slow", "input": _words(SLOW_WORDS), "background": True, "stream": True}
        with http.stream("POST", "/v1/responses", json=body) as response:
            buffer = b""
            for chunk in response.iter_bytes():
                buffer += chunk
                while b"\n\n" in buffer and len(seen) < k:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    seen += parse_frames(frame + b"\n\n")
                if len(seen) >= k:
                    break  # the client drops the connection mid-stream
        response_id = seen[0]["response"]["id"]
        assert seen[-1]["sequence_number"] == k
        assert http.get(f"/v1/responses/{response_id}").json()["status"] in (
            "queued", "in_progress"
        )  # still running on the gateway
        rest = parse_frames(http.get(f"/v1/responses/{response_id}",
                                     params={"stream": "true", "starting_after": k}).content)
        everything = parse_frames(http.get(f"/v1/responses/{response_id}",
                                           params={"stream": "true"}).content)
    assert [e["sequence_number"] for e in rest] == list(range(k + 1, len(everything) + 1))
    assert seen + rest == everything
    validate_events(everything)
    assert rest[-1]["type"] == "response.completed"
    text = "".join(e["delta"] for e in everything if e["type"] == "response.output_text.delta")
    assert text == _words(SLOW_WORDS)


def test_sdk_resume_with_starting_after(rgw: ResponsesGateway) -> None:
    client = rgw.client()
    with client.responses.create(model="slow", input=_words(12), background=True,
                                 stream=True) as stream:
        first = [next(iter(stream)) for _ in range(4)]
    response_id = first[0].response.id  # type: ignore[union-attr]
    rest = list(client.responses.retrieve(response_id, stream=True, starting_after=4))
    assert rest[0].sequence_number == 5 and rest[-1].type == "response.completed"


def test_cancel_stops_a_background_run(rgw: ResponsesGateway) -> None:
    client = rgw.client()
    # 1,200 words: 30 s of answer, so a cancel slowed by a busy machine still finds it running
    started = client.responses.create(model="slow", input=_words(1200), background=True)
    time.sleep(0.2)
    cancelled = client.responses.cancel(started.id)
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(started.id).status == "cancelled"
    with httpx.Client(base_url=rgw.base_url, headers=HEADERS, timeout=10) as http:
        events = parse_frames(http.get(f"/v1/responses/{started.id}",
                                       params={"stream": "true"}).content)
    validate_events(events)
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "response_cancelled"
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert 0 < len(text) < len(_words(1200))
    with pytest.raises(openai.NotFoundError):
        rgw.client(KEY_B).responses.cancel(started.id)


def test_only_background_responses_stream_again(rgw: ResponsesGateway) -> None:
    client = rgw.client()
    plain = client.responses.create(model="echo", input="not background")
    with pytest.raises(openai.BadRequestError):
        list(client.responses.retrieve(plain.id, stream=True))
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(plain.id)



@pytest.mark.parametrize("rgw", ["postgres"], indirect=True)
def test_resume_on_another_instance(rgw: ResponsesGateway, tmp_path: Path) -> None:
    """Two instances on one PostgreSQL and one Redis: the second replays and follows a
    background run of the first, and serves its stored result."""
    with run_gateway(tmp_path, rgw.config) as second, \
            httpx.Client(headers=HEADERS, timeout=20) as http:
        body = {"model": "slow", "input": _words(20), "background": True}
        created = http.post(f"{rgw.base_url}/v1/responses", json=body).json()
        seen = parse_frames(http.get(f"{second.base_url}/v1/responses/{created['id']}",
                                     params={"stream": "true", "starting_after": 3}).content)
        final = http.get(f"{second.base_url}/v1/responses/{created['id']}").json()
    assert seen[0]["sequence_number"] == 4 and seen[-1]["type"] == "response.completed"
    assert final["status"] == "completed" and final["output"] == seen[-1]["response"]["output"]
    assert final["output"][0]["content"][0]["text"] == _words(20)
