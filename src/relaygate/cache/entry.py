"""What the cache keeps of an answer, as bytes: the canonical result of a chat call (so
any front, whole or streaming, can be answered from it) or a task's reply, with what the
original call used and cost (a hit's saving)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.providers.base import RawReply
from relaygate.providers.replay.codec import decode, encode
from relaygate.types import ModelResult, Usage


@dataclass(slots=True)
class Entry:
    provider: str
    upstream_model: str
    deployment: str | None
    usage: Usage  # what the original call used
    cost_usd: float | None  # what it cost: what each hit saves
    result: ModelResult | None = None  # a chat call's answer
    reply: RawReply | None = None  # a task's relayed reply (embeddings)
    product: object | None = None  # a task's own result, for its front to encode


def dump(entry: Entry) -> bytes:
    value: dict[str, Any] = {
        "provider": entry.provider,
        "upstream_model": entry.upstream_model,
        "deployment": entry.deployment,
        "usage": encode(entry.usage),
        "cost_usd": entry.cost_usd,
    }
    if entry.result is not None:
        value["result"] = encode(entry.result)
    if entry.reply is not None:
        reply = entry.reply
        value["reply"] = [reply.status, encode(reply.body), reply.content_type]
    if entry.product is not None:
        value["product"] = encode(entry.product)
    return orjson.dumps(value)


def load(data: bytes) -> Entry:
    value = orjson.loads(data)
    entry = Entry(value["provider"], value["upstream_model"], value["deployment"],
                  decode(value["usage"]), value["cost_usd"])
    if "result" in value:
        entry.result = decode(value["result"])
    if "reply" in value:
        status, body, content_type = value["reply"]
        entry.reply = RawReply(status, decode(body), content_type)
    if "product" in value:
        entry.product = decode(value["product"])
    return entry
