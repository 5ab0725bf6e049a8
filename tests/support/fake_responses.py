"""A local server that speaks OpenAI's Responses wire format (`POST /v1/responses`).

Same rules as fake_openai: it repeats the last user text (plus the instructions it was
given), calls the first offered tool when the prompt says "Calculate" (arguments
{"a": 5, "b": 3, "operation": "add"}), answers "The result is X." after a function
call output. `max_output_tokens` below 20 cuts the answer (status incomplete). With a
`reasoning.effort` it first gives a reasoning item with a summary (THINKING); streamed
text deltas carry logprobs when `include` asks for them.
Model names choose failures: `fail-<status>` (an OpenAI error body), `malformed`.
Streams follow OpenAI's event order with sequence numbers from 0; every request
received is kept in `requests`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CALC_ARGS = '{"a": 5, "b": 3, "operation": "add"}'
THINKING = "The user wants an echo; I will repeat it."  # a reasoning summary, given an effort


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if "text" in part)


def answer(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    items = body.get("input") or []
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    last = items[-1] if items else {}
    if last.get("type") == "function_call_output":
        return f"The result is {_text(last.get('output'))}.", []
    user = next((_text(i.get("content")) for i in reversed(items)
                 if i.get("type", "message") == "message" and i.get("role") == "user"), "")
    tools = body.get("tools") or []
    if tools and body.get("tool_choice") != "none" and "calculate" in user.lower():
        return "", [{"type": "function_call", "id": "fc_fake1", "call_id": "call_fake_1",
                     "name": tools[0]["name"], "arguments": CALC_ARGS, "status": "completed"}]
    text = user
    if body.get("instructions"):
        text += f" [instructions: {body['instructions']}]"
    return text, []


def _logprobs(body: dict[str, Any], delta: str) -> list[dict[str, Any]]:
    """One token per delta (logprob -0.25) with `top_logprobs` alternatives, when asked."""
    if "message.output_text.logprobs" not in (body.get("include") or []):
        return []
    alternatives = [{"token": f"alt{i}", "logprob": -3.0 - i, "bytes": list(f"alt{i}".encode())}
                    for i in range(int(body.get("top_logprobs") or 0))]
    return [{"token": delta, "logprob": -0.25, "bytes": list(delta.encode()),
             "top_logprobs": alternatives}]


def _response(body: dict[str, Any], status: str, output: list[dict[str, Any]],
              usage: dict[str, Any] | None, reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "resp_fake123", "object": "response", "created_at": int(time.time()),
        "status": status, "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
        "model": body.get("model"), "output": output, "parallel_tool_calls": True,
        "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
        "store": False, "temperature": 1.0, "text": {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools", []),
        "top_p": 1.0, "truncation": "disabled", "usage": usage, "metadata": {},
    }


def _usage(body: dict[str, Any], text: str) -> dict[str, Any]:
    prompt = len(json.dumps(body.get("input")).split())
    out = max(1, len(text.split()))
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + out}


class FakeResponses:
    """The fake server's state; `app` is the ASGI application to serve."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/v1/responses", self.create, methods=["POST"])])

    async def create(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        model = str(body.get("model", ""))
        if model.startswith("fail-"):
            code = int(model.removeprefix("fail-"))
            error = {"message": f"fake responses failure {code}", "type": "invalid_request_error",
                     "param": None, "code": "fake_error"}
            return JSONResponse({"error": error}, status_code=code,
                                headers={"retry-after": "3"} if code == 429 else None)
        if model == "malformed":
            return Response(b"<html>", media_type="text/html")
        text, calls = answer(body)
        reason = None
        limit = body.get("max_output_tokens")
        if limit is not None and limit < 20 and len(text.split()) > 2:
            text, reason = " ".join(text.split()[:2]), "max_output_tokens"
        message = {"type": "message", "id": "msg_fake1", "status": "incomplete" if reason else "completed",
                   "role": "assistant",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]}
        thinking = THINKING if (body.get("reasoning") or {}).get("effort") else None
        reasoning = [{"type": "reasoning", "id": "rs_fake1",
                      "summary": [{"type": "summary_text", "text": thinking}]}] if thinking else []
        output = reasoning + ([message] if text else []) + calls
        status = "incomplete" if reason else "completed"
        if body.get("stream"):
            return StreamingResponse(self._stream(body, [*reasoning, *calls], message, text,
                                                  status, reason),
                                     media_type="text/event-stream")
        return JSONResponse(_response(body, status, output, _usage(body, text), reason))

    async def _stream(self, body: dict[str, Any], items: list[dict[str, Any]],
                      message: dict[str, Any], text: str, status: str,
                      reason: str | None) -> AsyncIterator[bytes]:
        sequence = 0

        def frame(kind: str, **fields: Any) -> bytes:
            nonlocal sequence
            payload = {"type": kind, "sequence_number": sequence, **fields}
            sequence += 1
            return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()

        yield frame("response.created", response=_response(body, "in_progress", [], None))
        yield frame("response.in_progress", response=_response(body, "in_progress", [], None))
        output: list[dict[str, Any]] = []
        reasoning = [item for item in items if item["type"] == "reasoning"]
        calls = [item for item in items if item["type"] != "reasoning"]
        for item in reasoning:  # a summary streamed in two deltas
            part = item["summary"][0]
            yield frame("response.output_item.added", output_index=0, item={**item, "summary": []})
            yield frame("response.reasoning_summary_part.added", item_id=item["id"],
                        output_index=0, summary_index=0, part={**part, "text": ""})
            half = len(part["text"]) // 2
            for delta in (part["text"][:half], part["text"][half:]):
                yield frame("response.reasoning_summary_text.delta", item_id=item["id"],
                            output_index=0, summary_index=0, delta=delta)
            yield frame("response.reasoning_summary_text.done", item_id=item["id"],
                        output_index=0, summary_index=0, text=part["text"])
            yield frame("response.reasoning_summary_part.done", item_id=item["id"],
                        output_index=0, summary_index=0, part=part)
            yield frame("response.output_item.done", output_index=0, item=item)
            output.append(item)
        if text:
            index = len(output)
            yield frame("response.output_item.added", output_index=index,
                        item={**message, "status": "in_progress", "content": []})
            yield frame("response.content_part.added", item_id="msg_fake1", output_index=index,
                        content_index=0, part={"type": "output_text", "text": "", "annotations": []})
            for position, word in enumerate(text.split(" ")):
                delta = word if position == 0 else " " + word
                yield frame("response.output_text.delta", item_id="msg_fake1", output_index=index,
                            content_index=0, delta=delta, logprobs=_logprobs(body, delta))
            yield frame("response.output_text.done", item_id="msg_fake1", output_index=index,
                        content_index=0, text=text)
            yield frame("response.content_part.done", item_id="msg_fake1", output_index=index,
                        content_index=0, part=message["content"][0])
            yield frame("response.output_item.done", output_index=index, item=message)
            output.append(message)
        for call in calls:
            index = len(output)
            yield frame("response.output_item.added", output_index=index,
                        item={**call, "arguments": "", "status": "in_progress"})
            arguments = call["arguments"]
            for start in range(0, len(arguments), 6):
                yield frame("response.function_call_arguments.delta", item_id=call["id"],
                            output_index=index, delta=arguments[start:start + 6])
            yield frame("response.function_call_arguments.done", item_id=call["id"],
                        output_index=index, arguments=arguments)
            yield frame("response.output_item.done", output_index=index, item=call)
            output.append(call)
        final = _response(body, status, output, _usage(body, text), reason)
        yield frame("response.incomplete" if reason else "response.completed", response=final)
