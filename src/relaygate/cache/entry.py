"""What the cache keeps of an answer, as bytes, with what the original call used and cost
(a hit's saving):

- a relayed whole reply, in the front's own format: the same front's next whole call
  gets the bytes as they are; any other front, or a stream, the canonical result decoded
  from them then (`translate.replies.result_of_reply`);
- a translated answer: its canonical result only;
- a task's (embeddings) relayed reply or its own result.

Framing: the header's length, a newline, the header (JSON), the reply's bytes. The usage
is a plain list in the header (the generic codec is for results and products): a hit reads
it on every call. Bytes in another layout (another version's) do not load: `Unreadable`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.providers.base import RawReply, WireFormat
from relaygate.providers.replay.codec import decode, encode
from relaygate.types import ModelResult, Usage, UsageSource


class Unreadable(ValueError):
    """Bytes that are not an entry of this layout (a miss, not a failure)."""


@dataclass(slots=True)
class Entry:
    provider: str
    upstream_model: str
    deployment: str | None
    usage: Usage  # what the original call used
    cost_usd: float | None  # what it cost: what each hit saves
    result: ModelResult | None = None  # a translated chat call's answer, canonical
    reply: RawReply | None = None  # relayed bytes: a chat call's (in `wire`) or a task's
    wire: WireFormat | None = None  # the format of a chat call's relayed `reply`
    product: object | None = None  # a task's own result, for its front to encode


def dump(entry: Entry) -> bytes:
    header: dict[str, Any] = {
        "provider": entry.provider,
        "upstream_model": entry.upstream_model,
        "deployment": entry.deployment,
        "usage": _usage_row(entry.usage),
        "cost_usd": entry.cost_usd,
    }
    if entry.result is not None:
        header["result"] = encode(entry.result)
    if entry.wire is not None:
        header["wire"] = entry.wire.value
    if entry.product is not None:
        header["product"] = encode(entry.product)
    body = b""
    if entry.reply is not None:
        header["reply"] = [entry.reply.status, entry.reply.content_type]
        body = entry.reply.body
    encoded = orjson.dumps(header)
    return b"%d\n%b%b" % (len(encoded), encoded, body)


def load(data: bytes) -> Entry:
    """The entry of `data`; raises `Unreadable` for bytes of another layout."""
    try:
        return _load(data)
    except (KeyError, TypeError, ValueError) as error:
        raise Unreadable(str(error)) from error


def _load(data: bytes) -> Entry:
    length, _, rest = data.partition(b"\n")
    size = int(length)
    header = orjson.loads(rest[:size])
    entry = Entry(header["provider"], header["upstream_model"], header["deployment"],
                  _usage_of(header["usage"]), header["cost_usd"])
    wire = header.get("wire")
    entry.wire = _WIRES[wire] if wire is not None else None
    if "reply" in header:
        status, content_type = header["reply"]
        entry.reply = RawReply(status, rest[size:], content_type)
    if "result" in header:
        entry.result = decode(header["result"])
    if "product" in header:
        entry.product = decode(header["product"])
    return entry


def _usage_row(usage: Usage) -> list[int | str]:
    return [usage.input_tokens, usage.output_tokens, usage.cached_tokens,
            usage.cache_creation_tokens, usage.reasoning_tokens, usage.source.value]


def _usage_of(row: list[Any]) -> Usage:
    inputs, outputs, cached, creation, reasoning, source = row
    return Usage(inputs, outputs, cached, creation, reasoning, _SOURCES[source])


_SOURCES = {source.value: source for source in UsageSource}
_WIRES = {wire.value: wire for wire in WireFormat}
