"""A local server that speaks Anthropic's Messages wire format exactly.

Its answers follow simple rules so translations can be checked end to end: it repeats
the last user text (plus `[N image(s)]` and `[system: ...]` when there are any), says
"I'll calculate that." and calls the first offered tool when the prompt says "Calculate"
(input {"a": 5, "b": 3, "operation": "add"}), answers "The result is X." after a tool
result, and thinks first (a thinking block with a signature) when `thinking` is enabled.
`stop_sequences` and `max_tokens` cut the text as Anthropic does. When any block carries
`cache_control`, usage reports 42 cache-read tokens.

It checks what the real API checks and the gateway could get wrong: the
`anthropic-version` and `x-api-key` headers, `max_tokens`, roles, tool_result blocks
first in their turn and answering a tool_use of the turn before, thinking budgets.

Model names choose failures: `fail-<status>` (error body from
tests/samples/anthropic/error_<status>.json, `retry-after: 7` on 429/529), `hang`,
`malformed` (200 with a non-JSON body), `error-stream` (an `error` event mid-stream),
`cut-stream` (the connection drops mid-stream), `no-usage` (no `usage` anywhere, as a
broken proxy might). Every request is kept in `requests`, its headers in `headers`.
`/v1/messages/count_tokens` answers the input count a Messages call would report.
Replies have today's shape, every field the schema requires included (nulls as the API's).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SAMPLES = Path(__file__).parent.parent / "samples" / "anthropic"
CALC_INPUT = {"a": 5, "b": 3, "operation": "add"}
CACHE_READ_TOKENS = 42


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content if block.get("type") == "text")
    return ""


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return content if isinstance(content, list) else [{"type": "text", "text": content or ""}]


def _has_cache_marker(value: Any) -> bool:
    if isinstance(value, dict):
        return "cache_control" in value or any(_has_cache_marker(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_cache_marker(item) for item in value)
    return False


def invalid(message: str, status: int = 400, kind: str = "invalid_request_error") -> Response:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}
    return JSONResponse(body, status_code=status)


def check(body: dict[str, Any], headers: dict[str, str]) -> Response | None:
    """The validation the real API would do that a translation could break."""
    if headers.get("anthropic-version") != "2023-06-01":
        return invalid("anthropic-version: header is required")
    if not headers.get("x-api-key"):
        return invalid("x-api-key header is required", 401, "authentication_error")
    if not isinstance(body.get("max_tokens"), int):
        return invalid("max_tokens: Field required")
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled" and thinking.get("budget_tokens", 0) >= body["max_tokens"]:
        return invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
    previous: dict[str, Any] = {}
    for index, message in enumerate(body.get("messages") or []):
        if message.get("role") not in ("user", "assistant"):
            return invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        blocks = _blocks(message)
        if any(block.get("type") == "text" and not block.get("text") for block in blocks):
            return invalid(f"messages.{index}: text content blocks must be non-empty")
        kinds = [block.get("type") for block in blocks]
        if "tool_result" in kinds:
            if kinds[: kinds.count("tool_result")] != ["tool_result"] * kinds.count("tool_result"):
                return invalid(f"messages.{index}: tool_result blocks must come first")
            offered = {b.get("id") for b in _blocks(previous) if b.get("type") == "tool_use"}
            for block in blocks:
                if block.get("type") == "tool_result" and block.get("tool_use_id") not in offered:
                    return invalid(
                        f"messages.{index}.content: unexpected `tool_use_id` found in "
                        f"`tool_result` blocks: {block.get('tool_use_id')}"
                    )
        previous = message
    return None


def plan(body: dict[str, Any]) -> tuple[str | None, str, dict[str, Any] | None]:
    """(thinking, text, tool input) this fake model gives for a request body."""
    messages = body.get("messages", [])
    last = messages[-1] if messages else {}
    thinking = None
    user_text = next(
        (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user" and _text(m.get("content"))),
        "",
    )
    if (body.get("thinking") or {}).get("type") == "enabled":
        thinking = f"Thinking about: {user_text}"
    results = [b for b in _blocks(last) if b.get("type") == "tool_result"]
    if results:
        return thinking, f"The result is {_text(results[-1].get('content'))}.", None
    tools = body.get("tools") or []
    choice = (body.get("tool_choice") or {}).get("type")
    if tools and choice != "none" and "calculate" in user_text.lower():
        return thinking, "I'll calculate that.", CALC_INPUT
    images = sum(1 for m in messages for b in _blocks(m) if b.get("type") == "image")
    system = body.get("system")
    text = user_text
    if images:
        text += f" [{images} image(s)]"
    if system:
        text += f" [system: {_text(system)}]"
    return thinking, text, None


def limit(body: dict[str, Any], text: str) -> tuple[str, str, str | None]:
    """(text, stop_reason, stop_sequence) after stop sequences and max_tokens."""
    for sequence in body.get("stop_sequences") or []:
        if sequence and sequence in text:
            return text[: text.index(sequence)], "stop_sequence", sequence
    words = text.split(" ")
    if len(words) > body["max_tokens"]:
        return " ".join(words[: body["max_tokens"]]), "max_tokens", None
    return text, "end_turn", None


def usage(body: dict[str, Any], output: str) -> dict[str, Any]:
    prompt = sum(len(_text(m.get("content")).split()) + 3 for m in body.get("messages", []))
    prompt += len(_text(body.get("system")).split()) + 10 * len(body.get("tools") or [])
    cached = CACHE_READ_TOKENS if _has_cache_marker(body) else 0
    return {
        "input_tokens": prompt,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": max(1, len(output.split())),
        "output_tokens_details": {"thinking_tokens": 0},
        "server_tool_use": None,
        "service_tier": "standard",
        "inference_geo": "global",  # where it ran: only a relay carries it (the gateway has none)
    }


def delta_usage(counts: dict[str, Any]) -> dict[str, Any]:
    """The cumulative usage a `message_delta` carries (fewer fields than a message's)."""
    keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
            "output_tokens", "output_tokens_details", "server_tool_use")
    return {key: counts[key] for key in keys}


def _error(status: int) -> Response:
    sample = SAMPLES / f"error_{status}.json"
    retry = {"retry-after": "7"} if status in (429, 529) else None
    if sample.exists():
        return Response(sample.read_bytes(), status_code=status, media_type="application/json", headers=retry)
    return invalid(f"fake upstream failure {status}", status, "api_error")


def frame(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


class FakeAnthropic:
    """The fake server's state; `app` is the ASGI application to serve."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnected = asyncio.Event()
        self.app = Starlette(routes=[
            Route("/v1/messages", self.messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", self.count_tokens, methods=["POST"]),
        ])

    async def count_tokens(self, request: Request) -> Response:
        """The same input count a Messages call with this prompt would report."""
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if not request.headers.get("x-api-key"):
            return invalid("x-api-key header is required", 401, "authentication_error")
        return JSONResponse({"input_tokens": usage(body, "")["input_tokens"]})

    async def messages(self, request: Request) -> Response:
        body = await request.json()
        headers = dict(request.headers)
        self.requests.append(body)
        self.headers.append(headers)
        model = str(body.get("model", ""))
        if model.startswith("fail-"):
            return _error(int(model.removeprefix("fail-")))
        problem = check(body, headers)
        if problem is not None:
            return problem
        if model == "hang":  # until the gateway gives up and hangs up
            while (await request.receive())["type"] != "http.disconnect":
                continue
            return Response(status_code=499)
        if model == "malformed":
            return Response(b"<html>not json</html>", media_type="text/html")
        thinking, text, tool_input = plan(body)
        text, stop_reason, stop_sequence = limit(body, text)
        if tool_input is not None:
            stop_reason = "tool_use"
        if body.get("stream"):
            return StreamingResponse(
                self._stream(body, model, thinking, text, tool_input, stop_reason, stop_sequence),
                media_type="text/event-stream",
            )
        content: list[dict[str, Any]] = []
        if thinking is not None:
            content.append({"type": "thinking", "thinking": thinking, "signature": "sig_fake_1"})
        if text:
            content.append({"type": "text", "text": text, "citations": None})
        if tool_input is not None:
            name = body["tools"][0]["name"]
            content.append({"type": "tool_use", "id": "toolu_fake_1", "name": name, "input": tool_input,
                            "caller": {"type": "direct"}})
        reply = {
            "id": "msg_fake123", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": stop_sequence,
            "stop_details": None, "container": None, "usage": usage(body, text),
        }
        if model == "no-usage":
            del reply["usage"]
        return JSONResponse(reply)

    async def _stream(
        self, body: dict[str, Any], model: str, thinking: str | None, text: str,
        tool_input: dict[str, Any] | None, stop_reason: str, stop_sequence: str | None,
    ) -> AsyncIterator[bytes]:
        counts = usage(body, text)
        opening: dict[str, Any] = {
            "id": "msg_fake123", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None, "stop_details": None,
            "container": None, "usage": {**counts, "output_tokens": 1}}
        closing: dict[str, Any] = {"type": "message_delta",
                               "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence,
                                         "stop_details": None, "container": None},
                               "usage": delta_usage(counts)}
        if model == "no-usage":
            del opening["usage"], closing["usage"]
        try:
            yield frame({"type": "message_start", "message": opening})
            index = 0
            if thinking is not None:
                yield frame({"type": "content_block_start", "index": index,
                             "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
                for start in range(0, len(thinking), 10):
                    yield frame({"type": "content_block_delta", "index": index,
                                 "delta": {"type": "thinking_delta", "thinking": thinking[start:start + 10]}})
                yield frame({"type": "content_block_delta", "index": index,
                             "delta": {"type": "signature_delta", "signature": "sig_fake_1"}})
                yield frame({"type": "content_block_stop", "index": index})
                index += 1
            if text:
                yield frame({"type": "content_block_start", "index": index,
                             "content_block": {"type": "text", "text": "", "citations": None}})
                yield frame({"type": "ping"})
                for position, word in enumerate(text.split(" ")):
                    if model == "error-stream" and position == 2:
                        yield frame({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
                        return
                    if model == "cut-stream" and position == 2:
                        raise ConnectionResetError("cut")
                    yield frame({"type": "content_block_delta", "index": index,
                                 "delta": {"type": "text_delta", "text": word if position == 0 else " " + word}})
                yield frame({"type": "content_block_stop", "index": index})
                index += 1
            if tool_input is not None:
                name = body["tools"][0]["name"]
                yield frame({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": "toolu_fake_1", "name": name, "input": {},
                    "caller": {"type": "direct"}}})
                arguments = json.dumps(tool_input)
                for fragment in ["", *(arguments[s:s + 7] for s in range(0, len(arguments), 7))]:
                    yield frame({"type": "content_block_delta", "index": index,
                                 "delta": {"type": "input_json_delta", "partial_json": fragment}})
                yield frame({"type": "content_block_stop", "index": index})
            yield frame(closing)
            yield frame({"type": "message_stop"})
        except asyncio.CancelledError:
            self.disconnected.set()
            raise
