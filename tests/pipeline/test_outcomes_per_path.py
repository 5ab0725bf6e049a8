"""Every path that calls a model is counted once per upstream call, with the provider that
served it, in `relaygate_requests_total` and `relaygate_tokens_total` (the pipeline's
outcome events feed the metrics): the model fronts, streamed and not, session turns,
background Responses, both WebSocket paths, and each step of a hosted-tool loop."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.realtime.wsclient import Participant
from tests.support.servers import GatewayProcess, run_gateway

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with run_gateway(tmp_path_factory.mktemp("outcomes")) as process:
        yield process


def _samples(base_url: str) -> Samples:
    text = httpx.get(f"{base_url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _calls(samples: Samples, model: str, status: str = "200") -> float:
    labels = (("model", model), ("provider", "mock"), ("status", status), ("tenant", "default"))
    return samples.get(("relaygate_requests_total", labels), 0.0)


def _output_tokens(samples: Samples, model: str) -> float:
    labels = (("direction", "output"), ("model", model), ("provider", "mock"),
              ("tenant", "default"))
    return samples.get(("relaygate_tokens_total", labels), 0.0)


def _counted(gateway: GatewayProcess, model: str, run: Callable[[], int]) -> tuple[float, float, int]:
    """(upstream calls counted, output tokens counted, output tokens the client saw)."""
    before = _samples(gateway.base_url)
    seen = run()
    deadline = time.monotonic() + 5
    while True:  # a stream's outcome is recorded as it ends, just after the client's last byte
        after = _samples(gateway.base_url)
        calls = _calls(after, model) - _calls(before, model)
        if calls or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.2)  # anything counted twice would show up by now
    after = _samples(gateway.base_url)
    return (_calls(after, model) - _calls(before, model),
            _output_tokens(after, model) - _output_tokens(before, model), seen)


def _sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in response.iter_lines()
            if line.startswith("data: ") and line != "data: [DONE]"]


def test_chat_plain_and_streamed(gateway: GatewayProcess) -> None:
    url = f"{gateway.base_url}/v1/chat/completions"
    body = {"model": "echo", "messages": [{"role": "user", "content": "one two three"}]}

    def plain() -> int:
        return int(httpx.post(url, json=body).json()["usage"]["completion_tokens"])

    def streamed() -> int:
        stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        with httpx.stream("POST", url, json=stream_body) as response:
            chunks = _sse_events(response)
        return int(chunks[-1]["usage"]["completion_tokens"])

    for run in (plain, streamed):
        calls, tokens, seen = _counted(gateway, "echo", run)
        assert calls == 1 and tokens == seen > 0, run.__name__


def test_messages_and_gemini_streams(gateway: GatewayProcess) -> None:
    def messages() -> int:
        body = {"model": "echo", "max_tokens": 50, "stream": True,
                "messages": [{"role": "user", "content": "four five"}]}
        with httpx.stream("POST", f"{gateway.base_url}/v1/messages", json=body) as response:
            lines = [json.loads(line[6:]) for line in response.iter_lines()
                     if line.startswith("data: ")]
        delta = next(event for event in lines if event["type"] == "message_delta")
        return int(delta["usage"]["output_tokens"])

    def gemini() -> int:
        url = f"{gateway.base_url}/v1beta/models/echo:streamGenerateContent?alt=sse"
        body = {"contents": [{"role": "user", "parts": [{"text": "six seven"}]}]}
        with httpx.stream("POST", url, json=body) as response:
            chunks = _sse_events(response)
        return int(chunks[-1]["usageMetadata"]["candidatesTokenCount"])

    for run in (messages, gemini):
        calls, tokens, seen = _counted(gateway, "echo", run)
        assert calls == 1 and tokens == seen > 0, run.__name__


def _session(gateway: GatewayProcess, model: str, **extra: Any) -> str:
    reply = httpx.post(f"{gateway.base_url}/api/sessions", json={"model": model, **extra})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def _session_output(gateway: GatewayProcess, session_id: str) -> int:
    usage = httpx.get(f"{gateway.base_url}/api/sessions/{session_id}/usage").json()
    return int(usage["output_tokens"])


def test_session_turns_streamed_and_not(gateway: GatewayProcess) -> None:
    session_id = _session(gateway, "echo")
    url = f"{gateway.base_url}/api/sessions/{session_id}/messages"

    def plain() -> int:
        before = _session_output(gateway, session_id)
        assert httpx.post(url, json={"message": "plain turn"}, timeout=10).status_code == 200
        return _session_output(gateway, session_id) - before

    def streamed() -> int:
        before = _session_output(gateway, session_id)
        with httpx.stream("POST", url, json={"message": "a streamed turn", "stream": True},
                          timeout=10) as response:
            text = "".join(response.iter_text())
        assert "message.completed" in text
        return _session_output(gateway, session_id) - before

    for run in (plain, streamed):
        calls, tokens, seen = _counted(gateway, "echo", run)
        assert calls == 1 and tokens == seen > 0, run.__name__


def test_background_response_is_counted_when_it_runs(gateway: GatewayProcess) -> None:
    def background() -> int:
        body = {"model": "echo", "input": "in the background", "background": True}
        created = httpx.post(f"{gateway.base_url}/v1/responses", json=body).json()
        deadline = time.monotonic() + 10
        while True:
            state = httpx.get(f"{gateway.base_url}/v1/responses/{created['id']}").json()
            if state["status"] == "completed" or time.monotonic() > deadline:
                return int(state["usage"]["output_tokens"])
            time.sleep(0.05)

    calls, tokens, seen = _counted(gateway, "echo", background)
    assert calls == 1 and tokens == seen > 0


def test_responses_over_websocket(gateway: GatewayProcess) -> None:
    def socket_turn() -> int:
        url = gateway.base_url.replace("http://", "ws://") + "/v1/responses"
        with connect(url, open_timeout=5) as ws:
            ws.send(json.dumps({"type": "response.create", "model": "echo", "input": "by socket"}))
            while True:
                event = json.loads(ws.recv(timeout=10))
                if event["type"] == "response.completed":
                    return int(event["response"]["usage"]["output_tokens"])
                assert event["type"] != "error", event

    calls, tokens, seen = _counted(gateway, "echo", socket_turn)
    assert calls == 1 and tokens == seen > 0


def test_realtime_chat_turn(gateway: GatewayProcess) -> None:
    def chat_turn() -> int:
        participant = Participant(gateway.base_url, "outcome-room")
        try:
            participant.say("hello over the chat socket", model="echo")
            events = participant.until(lambda event: event["type"] == "agent_response_complete")
        finally:
            participant.connection.close()
        return int(events[-1]["usage"]["output_tokens"])

    calls, tokens, seen = _counted(gateway, "echo", chat_turn)
    assert calls == 1 and tokens == seen > 0


def test_hosted_tool_loop_counts_each_model_call(gateway: GatewayProcess) -> None:
    def hosted() -> int:
        body = {"model": "mock", "input": "Calculate 5 + 3",
                "tools": [{"type": "relaygate:calculator"}]}
        reply = httpx.post(f"{gateway.base_url}/v1/responses", json=body, timeout=10).json()
        assert reply["status"] == "completed", reply
        return int(reply["usage"]["output_tokens"])

    calls, tokens, seen = _counted(gateway, "mock", hosted)
    assert calls == 2  # the step that asked for the calculator, and the one that answered
    assert tokens == seen > 0
