"""A local server that speaks OpenAI's Chat Completions wire format exactly.

Its answers follow simple rules so translations can be checked end to end: it repeats
the last user text, calls the first offered tool when the prompt says "Calculate"
(arguments {"a": 5, "b": 3, "operation": "add"}), answers "The result is X." after a
tool result, and says how many images it saw; `max_tokens` cuts the text to that many
words (finish_reason `length`). Model names choose failures:
`fail-<status>` (error body from tests/samples/openai/error_<status>.json or a generic
one), `hang` (never answers), `malformed` (200 with a non-JSON body), `slow-stream`
(one chunk every 50 ms, 200 chunks), `stall-stream` (two chunks, then silence for an
hour), `cut-stream` (closes the stream midway).
Every request received is kept in `requests` for assertions.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SAMPLES = Path(__file__).parent.parent / "samples" / "openai"
CALC_ARGS = '{"a": 5, "b": 3, "operation": "add"}'


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return ""


def answer(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(text, tool_calls) this fake model gives for a request body."""
    messages = body.get("messages", [])
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return f"The result is {_text(last.get('content'))}.", []
    user_text = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    tools = body.get("tools") or []
    if tools and body.get("tool_choice") != "none" and "calculate" in user_text.lower():
        name = tools[0]["function"]["name"]
        return "", [{"id": "call_fake_1", "type": "function", "function": {"name": name, "arguments": CALC_ARGS}}]
    images = sum(
        1 for m in messages if isinstance(m.get("content"), list)
        for part in m["content"] if part.get("type") == "image_url"
    )
    system = next((_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")), "")
    text = user_text
    if images:
        text += f" [{images} image(s)]"
    if system:
        text += f" [system: {system}]"
    return text, []


def _usage(body: dict[str, Any], text: str) -> dict[str, Any]:
    prompt = sum(len(_text(m.get("content")).split()) + 4 for m in body.get("messages", []))
    completion = max(1, len(text.split()))
    return {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def _error(status: int) -> Response:
    sample = SAMPLES / f"error_{status}.json"
    if sample.exists():
        return Response(sample.read_bytes(), status_code=status, media_type="application/json",
                        headers={"retry-after": "7"} if status == 429 else None)
    body = {"error": {"message": f"fake upstream failure {status}", "type": "server_error",
                      "param": None, "code": None}}
    return JSONResponse(body, status_code=status)


class FakeOpenAI:
    """The fake server's state; `app` is the ASGI application to serve."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnected = asyncio.Event()
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/openai/deployments/{deployment}/chat/completions", self.chat, methods=["POST"]),
        ])

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        model = str(body.get("model", ""))
        if model.startswith("fail-"):
            return _error(int(model.removeprefix("fail-")))
        if model == "hang":
            await asyncio.sleep(3600)
        if model == "malformed":
            return Response(b"<html>not json</html>", media_type="text/html")
        text, calls = answer(body)
        finish = "tool_calls" if calls else "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if limit is not None and not calls and len(text.split()) > int(limit):
            text, finish = " ".join(text.split()[: int(limit)]), "length"  # max_tokens cuts words
        if body.get("stream"):
            return StreamingResponse(self._stream(body, text, calls, model, finish), media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None,
                                   "annotations": []}
        if calls:
            message["tool_calls"] = calls
        return JSONResponse({
            "id": "chatcmpl-fake123", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message, "logprobs": None,
                                         "finish_reason": finish}],
            "usage": _usage(body, text), "service_tier": "default", "system_fingerprint": "fp_fake",
        })

    async def _stream(self, body: dict[str, Any], text: str, calls: list[dict[str, Any]],
                      model: str, finish: str = "stop") -> AsyncIterator[bytes]:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {"id": "chatcmpl-fake123", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "service_tier": "default", "system_fingerprint": "fp_fake"}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            payload = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                            "finish_reason": finish}]}
            if include_usage:
                payload["usage"] = None
            return b"data: " + json.dumps(payload).encode() + b"\n\n"

        try:
            yield chunk({"role": "assistant", "content": "", "refusal": None})
            words = text.split(" ") if text else []
            if model == "slow-stream":
                words = [f"w{i}" for i in range(200)]
            for index, word in enumerate(words):
                if model == "slow-stream":
                    await asyncio.sleep(0.05)
                if model == "cut-stream" and index == 2:
                    raise ConnectionResetError("cut")
                if model == "stall-stream" and index == 2:
                    await asyncio.sleep(3600)
                yield chunk({"content": word if index == 0 else " " + word})
            for index, call in enumerate(calls):
                yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                             "function": {"name": call["function"]["name"], "arguments": ""}}]})
                arguments = call["function"]["arguments"]
                for start in range(0, len(arguments), 7):
                    yield chunk({"tool_calls": [{"index": index,
                                                 "function": {"arguments": arguments[start:start + 7]}}]})
            yield chunk({}, finish)
            if include_usage:
                yield b"data: " + json.dumps({**base, "choices": [], "usage": _usage(body, text)}).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"
        except asyncio.CancelledError:
            self.disconnected.set()
            raise
