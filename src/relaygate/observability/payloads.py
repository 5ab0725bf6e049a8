"""Payload logging (`telemetry.logs.payloads: true`; off by default): a pipeline step placed
before the guard step in `model_call_steps`, that reads the call once the rest of the chain
answered: the input as the input guards left it (masked), the answer as the output guards
left it (what the client received). It writes one `payload` record per call: the input, and
the whole answer when there is one (a stream's text is not held back for it)."""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.observability.log_export import LogExport
from relaygate.observability.logging import get_logger
from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next

_log = get_logger("relaygate.payload")


class PayloadLog:
    span_name = "payload_log"

    def __init__(self, export: LogExport | None, max_chars: int) -> None:
        self._export = export
        self._max = max_chars

    def _cut(self, value: Any) -> str:
        if isinstance(value, bytes):
            text = value.decode("utf-8", "replace")
        else:
            text = orjson.dumps(value, default=str).decode()
        return text if len(text) <= self._max else text[: self._max] + "…"

    async def __call__(self, call: Call, next: Next) -> Answer:
        answer = await next(call)
        if call.model_call is not None:
            given: Any = call.model_call.messages
        elif call.body is not None:
            given = {name: value for name, value in call.body.items() if name != "model"}
        else:
            given = None
        if answer.result is not None:
            output: Any = self._cut(answer.result.message)
        elif answer.reply is not None:
            output = self._cut(answer.reply.body)
        else:
            output = None  # streamed
        fields = {
            "request_id": call.request_id, "tenant": call.principal.tenant, "model": call.model,
            "endpoint": call.endpoint.value, "stream": call.stream,
            "input": self._cut(given), "output": output,
        }
        _log.info("payload", **fields)
        if self._export is not None:
            self._export.emit("payload", fields)
        return answer
