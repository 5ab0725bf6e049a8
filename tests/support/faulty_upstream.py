"""A fault-injecting upstream that speaks OpenAI Chat Completions, one "deployment" per path.

Point a provider's `base_url` at `upstream.base_url(server, "d1")` (…/d1/v1); set
`upstream.faults["d1"] = Fault("500", rate=0.5)` to make that deployment fail half its calls.
Kinds: `ok`, `500`, `503`, `429` (with `Retry-After`), `hang` (no answer for an hour),
`reset` (the head, then the connection cut before the body), `reset_mid` (cut mid-body),
`cut_before_first` (a stream cut before its first chunk), `cut_after_first` (after it),
`malformed` (a 200 that is not JSON), `trickle` (a chunk every `delay` seconds),
`context` (a 400 `context_length_exceeded`), `mix` (500, reset, hang in turn),
`policy` (a 400 `content_policy_violation`). A `delay` (seconds) slows every answer
down first. A dead port (nothing listening) gives "connection refused".
Calls, failures and calls in flight are counted per deployment; the rolls are seeded.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_openai import answer
from tests.support.servers import ThreadedServer


@dataclass
class Fault:
    kind: str = "ok"
    rate: float = 1.0  # the share of calls that get the fault (the rest are answered well)
    delay: float = 0.0  # seconds before every answer (or between trickled chunks)
    retry_after: float = 1.0  # the 429's Retry-After


class Cut(Exception):
    """Raised inside a response body: uvicorn drops the connection mid-reply."""


class FaultyUpstream:
    def __init__(self, seed: int = 15) -> None:
        self.faults: dict[str, Fault] = {}
        self.calls: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.models: list[str] = []
        self.traceparents: list[str | None] = []  # each call's `traceparent` header
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/{deployment}/v1/chat/completions", self.chat, methods=["POST"]),
        ])

    @staticmethod
    def base_url(server: ThreadedServer, deployment: str) -> str:
        return f"{server.base_url}/{deployment}/v1"

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.failures.clear()

    def _roll(self, deployment: str) -> tuple[Fault, bool]:
        fault = self.faults.get(deployment, Fault())
        with self._lock:
            self.calls[deployment] += 1
            failing = fault.kind != "ok" and self._random.random() < fault.rate
            if failing:
                self.failures[deployment] += 1
        return fault, failing

    async def chat(self, request: Request) -> Response:
        deployment = request.path_params["deployment"]
        body = await request.json()
        self.models.append(str(body.get("model")))
        self.traceparents.append(request.headers.get("traceparent"))
        fault, failing = self._roll(deployment)
        self.in_flight[deployment] += 1
        self.max_in_flight[deployment] = max(self.max_in_flight[deployment],
                                             self.in_flight[deployment])
        try:
            if fault.delay and fault.kind != "trickle":
                await asyncio.sleep(fault.delay)
            kind = fault.kind if failing else "ok"
            if kind == "mix":  # 5xx, a reset, a hang: one after the other
                kind = ("500", "reset", "hang")[self.failures[deployment] % 3]
            return await self._reply(kind, fault, body, deployment)
        finally:
            self.in_flight[deployment] -= 1

    async def _reply(self, kind: str, fault: Fault, body: dict[str, Any],
                     deployment: str) -> Response:
        if kind in ("500", "503"):
            return _error(int(kind), "server_error", None)
        if kind == "429":
            return _error(429, "rate_limit_exceeded", None,
                          {"retry-after": f"{fault.retry_after:g}"})
        if kind == "context":
            return _error(400, "context_length_exceeded", "messages",
                          message="This model's maximum context length is 100 tokens.")
        if kind == "policy":
            return _error(400, "content_policy_violation", None,
                          message="Your request was rejected by our content policy.")
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "malformed":
            return Response(b'{"id": "chatcmpl-x", "choices": [', media_type="application/json")
        text, _ = answer(body)
        text = f"{text} [{deployment}]"
        if body.get("stream"):
            return StreamingResponse(self._stream(kind, fault, body, text),
                                     media_type="text/event-stream")
        payload = json.dumps(_completion(body, text)).encode()
        if kind in ("reset", "reset_mid"):
            return StreamingResponse(_cut(payload, kind == "reset_mid"),
                                     media_type="application/json",
                                     headers={"content-length": str(len(payload))})
        return Response(payload, media_type="application/json")

    async def _stream(self, kind: str, fault: Fault, body: dict[str, Any],
                      text: str) -> AsyncIterator[bytes]:
        if kind in ("cut_before_first", "reset"):
            raise Cut("cut before the first chunk")
        base = {"id": "chatcmpl-faulty", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model")}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            payload = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return b"data: " + json.dumps(payload).encode() + b"\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for index, word in enumerate(text.split(" ")):
            if kind in ("cut_after_first", "reset_mid") and index == 1:
                raise Cut("cut after the first chunk")
            if kind == "trickle":
                await asyncio.sleep(fault.delay)
            yield chunk({"content": word if index == 0 else " " + word})
        yield chunk({}, "stop")
        usage = _usage(body, text)
        yield b"data: " + json.dumps({**base, "choices": [], "usage": usage}).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"


async def _cut(payload: bytes, midway: bool) -> AsyncIterator[bytes]:
    if midway:
        yield payload[: len(payload) // 2]
    raise Cut("connection cut")


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content")).split()) + 4 for m in body.get("messages", []))
    completion = max(1, len(text.split()))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-faulty", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": _usage(body, text),
    }


def _error(status: int, code: str, param: str | None, headers: dict[str, str] | None = None,
           message: str | None = None) -> Response:
    body = {"error": {"message": message or f"injected fault {status}", "type": code,
                      "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
