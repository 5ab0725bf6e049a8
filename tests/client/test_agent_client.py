"""`GatewayAgentClient` against the real gateway on a real port."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from relaygate.cli import build_parser
from relaygate.cli import chat as cli_chat
from relaygate.client import GatewayAgentClient, GatewayClientError, build_user_message, terminal
from tests.realtime.shared_gateway import KEY, shared_gateway
from tests.support.servers import GatewayProcess

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def client_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    return shared_gateway(request, tmp_path_factory)


def test_build_user_message_inlines_images(tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    message = build_user_message("what is this?", image_paths=[image])
    assert message["role"] == "user"
    assert message["content"][0] == {"type": "input_text", "text": "what is this?"}
    url = message["content"][1]["image_url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == PNG
    with pytest.raises(ValueError):
        build_user_message("x", image_paths=[tmp_path / "notes.txt"])


async def test_complete_response_with_an_image(client_gateway: GatewayProcess,
                                               tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    async with GatewayAgentClient(client_gateway.base_url, KEY) as client:
        reply = await client.complete_response(
            "mock", [build_user_message("hello", image_paths=[image])]
        )
        assert reply["text"].startswith("Hello! I am the relaygate mock model")
        assert "I received 1 image" in reply["text"]
        assert reply["response"]["object"] == "response"
        assert reply["usage"]["output_tokens"] > 0


async def test_stream_response_yields_responses_events(client_gateway: GatewayProcess) -> None:
    async with GatewayAgentClient(client_gateway.base_url, KEY) as client:
        events = [event async for event in client.stream_response("echo", "one two three")]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = [e["data"]["delta"] for e in events if e["event"] == "response.output_text.delta"]
    assert "".join(deltas) == "one two three" and len(deltas) == 3


async def test_sessions_round_trip(client_gateway: GatewayProcess) -> None:
    async with GatewayAgentClient(client_gateway.base_url, KEY) as client:
        session = await client.create_session("echo", metadata={"who": "client-test"})
        turn = await client.send_session_message(session["id"], "first words")
        assert turn["message"]["content"] == "first words"
        events = [e async for e in client.stream_session_message(session["id"], "said again")]
        chunks = "".join(e["data"]["text"] for e in events if e["event"] == "chunk")
        assert chunks == "said again"
        assert events[-1]["event"] == "message.completed"
        history = await client.session_messages(session["id"])
        assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
        fetched = await client.get_session(session["id"])
        assert fetched["usage"]["total_tokens"] > 0
        assert session["id"] in [s["id"] for s in await client.list_sessions()]


async def test_agent_messages(client_gateway: GatewayProcess) -> None:
    async with GatewayAgentClient(client_gateway.base_url, KEY) as client:
        sent = await client.send_agent_message("planner", "client-coder", {"task": "x"},
                                               conversation_id="c1")
        inbox = await client.receive_agent_messages("client-coder", wait=1)
        assert [m["id"] for m in inbox] == [sent["id"]]
        assert inbox[0]["content"] == {"task": "x"}
        assert await client.ack_agent_messages("client-coder", up_to=inbox[-1]["sequence"]) == 1
        assert await client.receive_agent_messages("client-coder") == []


async def test_errors_carry_the_gateways_error(client_gateway: GatewayProcess) -> None:
    async with GatewayAgentClient(client_gateway.base_url, "sk-wrong") as client:
        with pytest.raises(GatewayClientError) as failed:
            await client.list_models()
        assert failed.value.status == 401 and failed.value.type == "authentication_error"
    async with GatewayAgentClient(client_gateway.base_url, KEY) as client:
        with pytest.raises(GatewayClientError) as failed:
            await client.complete_response("no-such-model", "hi")
        assert failed.value.status == 404
    async with GatewayAgentClient("http://127.0.0.1:9", KEY, timeout=2) as client:
        with pytest.raises(GatewayClientError) as failed:
            await client.list_models()
        assert failed.value.status == 0


async def test_relaygate_chat_in_the_terminal(client_gateway: GatewayProcess) -> None:
    """`relaygate chat` as the command line parses it, reading a script as its input."""
    script = "/model\n/model echo\nsay it back\n/session\n/tools\nWhat is 2 + 3?\n/quit\n"
    args = build_parser().parse_args(
        ["chat", "--url", client_gateway.base_url, "--api-key", KEY]
    )
    assert args.handler is cli_chat
    out = io.StringIO()
    assert await terminal.chat(args, io.StringIO(script), out) == 0
    text = out.getvalue()
    assert "  mock\n" in text and "  echo\n" in text  # /model lists the models
    assert "model: echo" in text
    assert "say it back\n" in text  # the echo model's streamed answer
    assert "session sess_" in text and "2 messages" in text
    assert "calculator" in text  # /tools lists the gateway's tools
    assert "What is 2 + 3?" in text  # echo repeats it
