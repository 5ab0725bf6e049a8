"""`capture_content: true`: the completion a client received (after the output guards'
masking) on the current span as `gen_ai.output.messages` — the request's server span, or the
agent step's span for a model step of the agent loop. A pipeline step placed before the guard
step (`app.model_call_steps`), so the answer it reads has been through the output guards.
Streams are not held back for it: a streamed answer puts no completion on a span."""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry import trace

from relaygate.observability.tracing.tracer import CONTENT_CHARS
from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next


class CompletionCapture:
    traced = False  # no step span of its own: it writes onto the current span

    async def __call__(self, call: Call, next: Next) -> Answer:
        answer = await next(call)
        if call.task is None:
            span = trace.get_current_span()
            if span.is_recording():
                output = output_content(answer)
                if output is not None:
                    span.set_attribute("gen_ai.output.messages", output)
        return answer


def output_content(answer: Answer) -> str | None:
    """A whole answer's output messages as JSON (cut at `CONTENT_CHARS`); None for a stream."""
    messages: Any
    if answer.result is not None:
        result = answer.result
        message: dict[str, Any] = {"role": "assistant", "content": result.message.text,
                                   "finish_reason": str(result.finish_reason)}
        if result.message.tool_calls:
            message["tool_calls"] = result.message.tool_calls
        messages = [message]
    elif answer.reply is not None:
        messages = _relayed_messages(answer.reply.body)
    else:
        return None
    return orjson.dumps(messages, default=str).decode()[:CONTENT_CHARS]


def _relayed_messages(body: bytes) -> Any:
    """The output messages in a relayed reply's own format (OpenAI, Anthropic, Gemini)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("choices"), list):  # OpenAI chat
        return [{**(choice.get("message") or {}), "finish_reason": choice.get("finish_reason")}
                for choice in data["choices"] if isinstance(choice, dict)]
    if "content" in data:  # Anthropic messages
        return [{"role": data.get("role", "assistant"), "content": data["content"],
                 "finish_reason": data.get("stop_reason")}]
    if isinstance(data.get("candidates"), list):  # Gemini
        return [candidate.get("content") for candidate in data["candidates"]
                if isinstance(candidate, dict)]
    return data.get("output", data)
