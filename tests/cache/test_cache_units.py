"""The cache's pieces on their own: the key, the in-process store, the entry codec."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from redis.asyncio import Redis

from relaygate.cache.controls import DEFAULT_CONTROLS, read_controls
from relaygate.cache.entry import Entry, Unreadable, dump, load
from relaygate.cache.key import SEPARATOR, exact_key, semantic_parts
from relaygate.cache.stores import MemoryStore, RedisStore
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Call, Endpoint
from relaygate.providers.base import RawReply, WireFormat
from relaygate.types import (
    FinishReason,
    Message,
    ModelCall,
    ModelResult,
    Role,
    TextPart,
    ToolCall,
    ToolSpec,
    Usage,
    UsageSource,
)


def call_of(model_call: ModelCall, model: str = "gpt") -> Call:
    return Call("req_1", Principal("acme"), Endpoint.CHAT, model, model_call.stream,
                model_call=model_call)


def chat(text: str, **fields: object) -> ModelCall:
    return ModelCall(model="gpt", messages=[Message(Role.USER, [TextPart(text)])],
                     **fields)  # type: ignore[arg-type]


def test_the_key_ignores_stream_user_and_metadata_but_not_what_changes_the_answer() -> None:
    base = str(exact_key(call_of(chat("hi", temperature=0.0)), "t:acme"))
    same = [chat("hi", temperature=0.0, stream=True, include_usage=True),
            chat("hi", temperature=0.0, user="u-1", metadata={"trace": "x"})]
    for model_call in same:
        assert str(exact_key(call_of(model_call), "t:acme")) == base
    different = [chat("hi!", temperature=0.0), chat("hi", temperature=0.0, max_tokens=5),
                 chat("hi", temperature=0.0, seed=1),
                 chat("hi", temperature=0.0, tools=[ToolSpec("lookup")])]
    for model_call in different:
        assert str(exact_key(call_of(model_call), "t:acme")) != base
    assert str(exact_key(call_of(chat("hi", temperature=0.0)), "t:globex")) != base
    assert str(exact_key(call_of(chat("hi", temperature=0.0), "gpt-alias"), "t:acme")) != base
    assert base.split(SEPARATOR)[:2] == ["t:acme", "gpt"]


def test_tool_parameters_in_any_key_order_are_one_key() -> None:
    one = ToolSpec("f", parameters={"type": "object", "properties": {"a": {"type": "string"},
                                                                      "b": {"type": "number"}}})
    two = ToolSpec("f", parameters={"properties": {"b": {"type": "number"},
                                                   "a": {"type": "string"}}, "type": "object"})
    assert str(exact_key(call_of(chat("x", tools=[one])), "t")) == str(
        exact_key(call_of(chat("x", tools=[two])), "t"))


def test_the_semantic_split_keeps_earlier_turns_in_its_namespace() -> None:
    first = chat("What is the capital of France?")
    parts = semantic_parts(call_of(first), "t:acme")
    assert parts is not None and parts[1] == "What is the capital of France?"
    longer = ModelCall(model="gpt", messages=[
        Message(Role.SYSTEM, [TextPart("Answer in French.")]), *first.messages])
    other = semantic_parts(call_of(longer), "t:acme")
    assert other is not None and other[0] != parts[0] and other[1] == parts[1]
    ends_with_tool = ModelCall(model="gpt", messages=[
        *first.messages, Message(Role.TOOL, [TextPart("42")], tool_call_id="c1")])
    assert semantic_parts(call_of(ends_with_tool), "t:acme") is None


def test_the_memory_store_expires_and_evicts_the_least_recently_used() -> None:
    async def run() -> None:
        store = MemoryStore(max_bytes=30)
        await store.set(f"t:a{SEPARATOR}m{SEPARATOR}1", b"x" * 10, 60)
        await store.set(f"t:a{SEPARATOR}m{SEPARATOR}2", b"y" * 10, 60)
        assert await store.get(f"t:a{SEPARATOR}m{SEPARATOR}1") == b"x" * 10  # now the newest
        await store.set(f"t:b{SEPARATOR}n{SEPARATOR}3", b"z" * 15, 60)  # 35 bytes: one goes
        assert await store.get(f"t:a{SEPARATOR}m{SEPARATOR}2") is None
        assert store.stats() == (2, 25)
        await store.set(f"t:a{SEPARATOR}m{SEPARATOR}4", b"w", 0.01)
        await asyncio.sleep(0.02)
        assert await store.get(f"t:a{SEPARATOR}m{SEPARATOR}4") is None
        assert await store.clear(model="n") == 1
        assert await store.clear("t:a") == 1
        assert store.stats() == (0, 0)
        await store.set("t:a\x1fm\x1fbig", b"b" * 31, 60)  # bigger than the whole cap
        assert store.stats() == (0, 0)

    asyncio.run(run())


def test_an_entry_survives_its_bytes() -> None:
    result = ModelResult("id-1", "gpt", Message(Role.ASSISTANT, [TextPart("Paris")],
                         tool_calls=[ToolCall("c1", "f", '{"a": 1}')]),
                         FinishReason.TOOL_CALLS, Usage(10, 3, cached_tokens=2), 1700000000)
    entry = Entry("oai", "gpt-4o-mini", "dep-1", Usage(10, 3), 0.25, result=result)
    assert load(dump(entry)) == entry


def test_a_relayed_entry_keeps_its_bytes_usage_and_format() -> None:
    reply = RawReply(200, b'{"id": "chatcmpl-1", "choices": []}', "application/json")
    usage = Usage(12, 9, cached_tokens=4, reasoning_tokens=2, source=UsageSource.ESTIMATED)
    entry = Entry("oai", "gpt-4o-mini", None, usage, None, reply=reply,
                  wire=WireFormat.OPENAI_CHAT)
    assert load(dump(entry)) == entry


def test_bytes_of_another_layout_do_not_load() -> None:
    """An entry another version wrote (its usage in the replay codec's form) is unreadable:
    the step treats it as a miss and stores the answer again."""
    header = orjson.dumps({"provider": "oai", "upstream_model": "m", "deployment": None,
                           "usage": {"_t": "Usage", "input_tokens": 1}, "cost_usd": None})
    for data in (b"%d\n%b" % (len(header), header), b"not an entry", b"7\n[1, 2]"):
        with pytest.raises(Unreadable):
            load(data)


def test_the_memory_store_keeps_at_once_and_redis_behind_the_response() -> None:
    async def run() -> None:
        store = MemoryStore(max_bytes=100)
        assert store.keep(f"t{SEPARATOR}m{SEPARATOR}1", b"v", 60)
        assert await store.get(f"t{SEPARATOR}m{SEPARATOR}1") == b"v"  # no task to wait for
        assert not RedisStore(Redis(), "p:").keep(f"t{SEPARATOR}m{SEPARATOR}1", b"v", 60)

    asyncio.run(run())


def test_request_controls() -> None:
    assert read_controls([(b"accept", b"*/*")]) is DEFAULT_CONTROLS
    controls = read_controls([(b"cache-control", b"no-cache, No-Store"),
                              (b"x-relaygate-cache-ttl", b"2.5")])
    assert (controls.lookup, controls.store, controls.ttl_seconds) == (False, False, 2.5)
    off = read_controls([(b"x-relaygate-cache", b"OFF"), (b"x-relaygate-cache-ttl", b"-1")])
    assert (off.lookup, off.store, off.ttl_seconds) == (False, False, None)
