"""What a cassette's response holds, turned into what a caller wants: a canonical result
or events from recorded OpenAI-format bytes, and OpenAI-format bytes from canonical ones."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from relaygate.errors import GatewayError
from relaygate.providers.replay.codec import decode
from relaygate.streaming.sse import DONE, SSEParser, data_frame
from relaygate.translate.events import MessageAssembler, result_to_events
from relaygate.translate.openai_chat.response import decode_response, encode_result
from relaygate.translate.openai_chat.stream import ChunkDecoder, ChunkEncoder
from relaygate.types import FinishReason, ModelResult, StreamEvent, Usage

TimedBytes = list[tuple[float, bytes]]
TimedEvents = list[tuple[float, StreamEvent]]


def chunk_bytes(item: dict[str, Any]) -> bytes:
    data = item.get("data")
    return data.encode() if isinstance(data, str) else decode({"_b": item["data_b64"]})


def timed_chunks(response: dict[str, Any]) -> TimedBytes:
    return [(float(item["t"]), chunk_bytes(item)) for item in response["chunks"]]


def events_of_chunks(chunks: TimedBytes) -> TimedEvents:
    """Recorded Chat Completions SSE bytes → canonical events, each at its chunk's time."""
    parser, decoder, out = SSEParser(), ChunkDecoder(), []
    for at, data in chunks:
        for event in parser.feed(data):
            if event.data.strip() == "[DONE]":
                continue
            out += [(at, item) for item in decoder.decode(orjson.loads(event.data))]
    return out


def assembled(events: list[StreamEvent], model: str) -> ModelResult:
    assembler = MessageAssembler()
    for event in events:
        assembler.feed(event)
    return ModelResult(f"chatcmpl-{uuid.uuid4().hex[:24]}", model, assembler.message(),
                       assembler.finish_reason or FinishReason.STOP, assembler.usage or Usage(),
                       int(time.time()))


def result_of(response: dict[str, Any], model: str) -> ModelResult:
    form = response["form"]
    if form == "result":
        result: ModelResult = decode(response["value"])
        return result
    if form == "bytes":
        return decode_response(orjson.loads(response["body"]))
    if form == "events":
        return assembled([decode(item["value"]) for item in response["events"]], model)
    if form == "chunks":
        return assembled([event for _, event in events_of_chunks(timed_chunks(response))], model)
    raise GatewayError(f"A cassette of form {form!r} cannot answer a chat call.")


def events_of(response: dict[str, Any], model: str) -> TimedEvents:
    form = response["form"]
    if form == "events":
        return [(float(item["t"]), decode(item["value"])) for item in response["events"]]
    if form == "chunks":
        return events_of_chunks(timed_chunks(response))
    return [(0.0, event) for event in result_to_events(result_of(response, model))]


def openai_body(response: dict[str, Any], model: str) -> bytes:
    """A whole Chat Completions body: as recorded, or encoded from canonical values."""
    if response["form"] == "bytes":
        body: str = response["body"]
        return body.encode()
    return orjson.dumps(encode_result(result_of(response, model)))


def openai_chunks(response: dict[str, Any], model: str) -> TimedBytes:
    """A Chat Completions stream: the recorded bytes, or encoded from canonical events."""
    if response["form"] == "chunks":
        return timed_chunks(response)
    encoder = ChunkEncoder(f"chatcmpl-{uuid.uuid4().hex[:24]}", model, int(time.time()), True)
    out: TimedBytes = []
    at = 0.0
    for at, event in events_of(response, model):
        out += [(at, data_frame(chunk)) for chunk in encoder.encode(event)]
    out += [(at, data_frame(chunk)) for chunk in encoder.close()]
    out.append((at, DONE))
    return out
