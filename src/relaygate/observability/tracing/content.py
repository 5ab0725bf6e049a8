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
from relaygate.translate.replies import result_of_reply


class CompletionCapture:
    traced = False  # no step span of its own: it writes onto the current span

    async def __call__(self, call: Call, next: Next) -> Answer:
        answer = await next(call)
        if call.task is None:
            span = trace.get_current_span()
            if span.is_recording():
                output = output_content(call, answer)
                if output is not None:
                    span.set_attribute("gen_ai.output.messages", output)
        return answer


def output_content(call: Call, answer: Answer) -> str | None:
    """A whole answer's output messages as JSON (cut at `CONTENT_CHARS`); None for a stream
    (or a relayed reply that does not decode)."""
    result = answer.result
    if result is None and answer.reply is not None and call.front is not None:
        result = result_of_reply(call.front, answer.reply.body, call.model)
    if result is None:
        return None
    message: dict[str, Any] = {"role": "assistant", "content": result.message.text,
                               "finish_reason": str(result.finish_reason)}
    if result.message.tool_calls:
        message["tool_calls"] = result.message.tool_calls
    return orjson.dumps([message], default=str).decode()[:CONTENT_CHARS]
