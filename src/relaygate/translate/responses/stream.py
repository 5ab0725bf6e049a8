"""Canonical events → the Responses semantic event sequence, building the response.

`ResponseStreamEncoder` owns a `ResponseState`: it opens and closes output items in the
order the model produces them (so `output_index` is the order of addition), numbers
every event with a strictly increasing `sequence_number` (1, 2, 3…, the same numbers
the event log gives them), and ends with completed / incomplete / failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from relaygate.translate.responses.ids import new_id
from relaygate.translate.responses.items import Item
from relaygate.translate.responses.response import ResponseState, Status, encode_response
from relaygate.translate.responses.terminal import CANCELLED_ERROR
from relaygate.types import (
    ErrorEvent,
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    TokenLogprob,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageEvent,
)

Event = dict[str, Any]

_INCOMPLETE_REASONS = {
    FinishReason.LENGTH: "max_output_tokens",
    FinishReason.CONTENT_FILTER: "content_filter",
}


@dataclass(slots=True)
class OutputItemEvent:
    """A whole output item made outside the model's stream (e.g. a hosted tool call the
    gateway ran): emitted as output_item.added then output_item.done, in order."""

    item: Item


@dataclass(slots=True)
class StoppedEarly:
    """The gateway stopped the run before the model's final answer (a hosted-tool loop at
    its step limit or time budget): the response ends `incomplete` with this reason."""

    reason: str


EncoderInput = StreamEvent | OutputItemEvent | StoppedEarly
"""What the encoder consumes: the canonical stream, plus whole output items and the
gateway's own early stop."""


@dataclass(slots=True)
class _Open:
    """An output item still being written."""

    index: int
    item: Item
    text: str = ""
    logprobs: list[dict[str, Any]] = field(default_factory=list)


def encode_logprob(logprob: TokenLogprob) -> dict[str, Any]:
    """The spec's `LogProb` (its alternatives as `TopLogProb`s)."""
    return {
        "token": logprob.token,
        "logprob": logprob.logprob,
        "bytes": list(logprob.token.encode()),
        "top_logprobs": [
            {"token": top.token, "logprob": top.logprob, "bytes": list(top.token.encode())}
            for top in logprob.top
        ],
    }


class ResponseStreamEncoder:
    """Feed canonical events, get semantic Responses events; `state` is the response."""

    def __init__(self, state: ResponseState) -> None:
        self.state = state
        self._sequence = 0
        self._reasoning: _Open | None = None
        self._message: _Open | None = None
        self._calls: dict[int, _Open] = {}  # canonical tool-call index → open item
        self._dropped_calls: set[int] = set()  # beyond max_tool_calls
        self._call_count = 0
        self._finish: FinishReason | None = None
        self._stopped_early: str | None = None

    # --- framing ------------------------------------------------------------------

    def _event(self, kind: str, **fields: Any) -> Event:
        self._sequence += 1
        return {"type": kind, "sequence_number": self._sequence, **fields}

    def _response_event(self, kind: str) -> Event:
        return self._event(kind, response=encode_response(self.state))

    def _add(self, item: Item) -> tuple[_Open, Event]:
        opened = _Open(len(self.state.output), item)
        self.state.output.append(item)
        return opened, self._event(
            "response.output_item.added", output_index=opened.index, item=dict(item)
        )

    def _done(self, opened: _Open) -> Event:
        return self._event(
            "response.output_item.done", output_index=opened.index, item=dict(opened.item)
        )

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> list[Event]:
        """response.created (+ queued for background) then in_progress."""
        events = [self._response_event("response.created")]
        if self.state.status is Status.QUEUED:
            events.append(self._response_event("response.queued"))
            self.state.status = Status.IN_PROGRESS
        events.append(self._response_event("response.in_progress"))
        return events

    def feed(self, event: EncoderInput) -> list[Event]:
        if isinstance(event, OutputItemEvent):
            return self._whole_item(event.item)
        if isinstance(event, StoppedEarly):
            self._stopped_early = event.reason
            return []
        if isinstance(event, TextDelta):
            return self._text(event.text, [encode_logprob(lp) for lp in event.logprobs])
        if isinstance(event, ReasoningDelta):
            return self._reasoning_delta(event)
        if isinstance(event, ToolCallStart):
            return self._call_start(event)
        if isinstance(event, ToolCallDelta):
            return self._call_delta(event)
        if isinstance(event, ToolCallEnd):
            opened = self._calls.pop(event.index, None)
            return self._close_call(opened) if opened is not None else []
        if isinstance(event, UsageEvent):
            self.state.usage = event.usage
            return []
        if isinstance(event, Finish):
            self._finish = event.reason
            return []
        assert isinstance(event, ErrorEvent)
        return self.fail(event.type, event.message)

    def finish(self) -> list[Event]:
        """Close what is open; the terminal event by the finish reason."""
        reason = self._finish or FinishReason.STOP
        if reason is FinishReason.ERROR:
            return self.fail("server_error", "The model stopped with an error.")
        incomplete = self._stopped_early or _INCOMPLETE_REASONS.get(reason)
        events = self._close_all("incomplete" if incomplete else "completed")
        self.state.completed_at = int(time.time())
        if incomplete:
            self.state.status = Status.INCOMPLETE
            self.state.incomplete_reason = incomplete
            return [*events, self._response_event("response.incomplete")]
        self.state.status = Status.COMPLETED
        return [*events, self._response_event("response.completed")]

    def fail(self, code: str, message: str) -> list[Event]:
        events = self._close_all("incomplete")
        self.state.status = Status.FAILED
        self.state.error = {"code": code, "message": message}
        return [*events, self._response_event("response.failed")]

    def cancel(self) -> list[Event]:
        """The run was stopped: close items; `error` tells followers why the stream ends."""
        events = self._close_all("incomplete")
        self.state.status = Status.CANCELLED
        return [*events, self._event("error", error=dict(CANCELLED_ERROR))]

    def interrupt(self, reason: str) -> None:
        """The stream was abandoned before its end: what was produced stays, the open
        items close, and the response is incomplete for `reason` (no event: nobody reads)."""
        self._close_all("incomplete")
        self.state.status = Status.INCOMPLETE
        self.state.incomplete_reason = reason
        self.state.completed_at = int(time.time())

    def error(self, kind: str, code: str, message: str) -> Event:
        """A stand-alone `error` event (the stream ends without a terminal response)."""
        return self._event("error", error={"type": kind, "code": code, "message": message,
                                           "param": None})

    def _whole_item(self, item: Item) -> list[Event]:
        events = [*self._close_reasoning(), *self._close_message("completed")]
        opened, added = self._add(dict(item))
        return [*events, added, self._done(opened)]

    # --- reasoning ------------------------------------------------------------------

    @property
    def _summarised(self) -> bool:
        """The client asked for `reasoning.summary`: the reasoning text the provider
        gives (a summary already for most of them) goes out as a summary part."""
        return bool((self.state.options.reasoning or {}).get("summary"))

    def _reasoning_part(self, kind: str, opened: _Open, part: dict[str, Any]) -> Event:
        if self._summarised:
            return self._event(f"response.reasoning_summary_part.{kind}",
                               item_id=opened.item["id"], output_index=opened.index,
                               summary_index=0, part=part)
        return self._part_event(f"response.content_part.{kind}", opened, part)

    def _reasoning_text(self, kind: str, opened: _Open, **fields: Any) -> Event:
        if self._summarised:
            return self._event(f"response.reasoning_summary_text.{kind}",
                               item_id=opened.item["id"], output_index=opened.index,
                               summary_index=0, **fields)
        return self._event(f"response.reasoning.{kind}", item_id=opened.item["id"],
                           output_index=opened.index, content_index=0, **fields)

    def _reasoning_delta(self, event: ReasoningDelta) -> list[Event]:
        events: list[Event] = []
        part_type = "summary_text" if self._summarised else "reasoning_text"
        if self._reasoning is None:
            events += self._close_message("completed")
            item = {"type": "reasoning", "id": new_id("rs"), "summary": [], "content": []}
            self._reasoning, added = self._add(item)
            events.append(added)
            events.append(self._reasoning_part("added", self._reasoning,
                                               {"type": part_type, "text": ""}))
        opened = self._reasoning
        if event.signature:
            opened.item["encrypted_content"] = event.signature
        if event.text:
            opened.text += event.text
            events.append(self._reasoning_text("delta", opened, delta=event.text))
        return events

    def _close_reasoning(self) -> list[Event]:
        opened, self._reasoning = self._reasoning, None
        if opened is None:
            return []
        if self._summarised:
            part = {"type": "summary_text", "text": opened.text}
            opened.item["summary"] = [part]
        else:
            part = {"type": "reasoning_text", "text": opened.text}
            opened.item["content"] = [part]
        return [
            self._reasoning_text("done", opened, text=opened.text),
            self._reasoning_part("done", opened, part),
            self._done(opened),
        ]

    # --- message text -----------------------------------------------------------------

    def _part_event(self, kind: str, opened: _Open, part: dict[str, Any]) -> Event:
        return self._event(kind, item_id=opened.item["id"], output_index=opened.index,
                           content_index=0, part=part)

    def _text(self, text: str, logprobs: list[dict[str, Any]]) -> list[Event]:
        events: list[Event] = []
        if self._message is None:
            events += self._close_reasoning()
            item = {"type": "message", "id": new_id("msg"), "status": "in_progress",
                    "role": "assistant", "content": []}
            self._message, added = self._add(item)
            events.append(added)
            events.append(self._part_event("response.content_part.added", self._message,
                                           {"type": "output_text", "text": "",
                                            "annotations": [], "logprobs": []}))
        opened = self._message
        opened.text += text
        opened.logprobs += logprobs
        events.append(self._event("response.output_text.delta", item_id=opened.item["id"],
                                  output_index=opened.index, content_index=0, delta=text,
                                  logprobs=logprobs))
        return events

    def _close_message(self, status: str) -> list[Event]:
        opened, self._message = self._message, None
        if opened is None:
            return []
        part = {"type": "output_text", "text": opened.text, "annotations": [],
                "logprobs": opened.logprobs}
        opened.item["content"] = [part]
        opened.item["status"] = status
        return [
            self._event("response.output_text.done", item_id=opened.item["id"],
                        output_index=opened.index, content_index=0, text=opened.text,
                        logprobs=opened.logprobs),
            self._part_event("response.content_part.done", opened, part),
            self._done(opened),
        ]

    # --- function calls ------------------------------------------------------------------

    def _call_start(self, event: ToolCallStart) -> list[Event]:
        limit = self.state.options.max_tool_calls
        if limit is not None and self._call_count >= limit:
            self._dropped_calls.add(event.index)
            return []
        self._call_count += 1
        events = [*self._close_reasoning(), *self._close_message("completed")]
        item = {"type": "function_call", "id": new_id("fc"), "call_id": event.id,
                "name": event.name, "arguments": "", "status": "in_progress"}
        opened, added = self._add(item)
        self._calls[event.index] = opened
        return [*events, added]

    def _call_delta(self, event: ToolCallDelta) -> list[Event]:
        opened = self._calls.get(event.index)
        if opened is None or not event.arguments:
            return []
        opened.text += event.arguments
        return [self._event("response.function_call_arguments.delta",
                            item_id=opened.item["id"], output_index=opened.index,
                            delta=event.arguments)]

    def _close_call(self, opened: _Open, status: str = "completed") -> list[Event]:
        opened.item["arguments"] = opened.text
        opened.item["status"] = status
        return [
            self._event("response.function_call_arguments.done", item_id=opened.item["id"],
                        output_index=opened.index, arguments=opened.text),
            self._done(opened),
        ]

    def _close_all(self, status: str) -> list[Event]:
        events = [*self._close_reasoning(), *self._close_message(status)]
        for index in sorted(self._calls):
            events += self._close_call(self._calls[index], status)
        self._calls.clear()
        return events

    @property
    def usage(self) -> Usage | None:
        return self.state.usage
