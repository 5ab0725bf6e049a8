"""The OTLP `ExportTraceServiceRequest` of a batch of finished spans, as protobuf bytes.

The same message the SDK's encoder builds (`opentelemetry.exporter.otlp.proto.common.
trace_encoder.encode_spans`, tested field for field in tests/observability/
test_otlp_encoding.py), written straight to the wire format instead of through one protobuf
object per span, attribute and value: about 3.5× less CPU per span. The export thread shares
the GIL (and, pinned, the core) with the event loop, so this is the biggest part of what a
kept trace costs (bench/README.md, "Tracing"). Field numbers: opentelemetry-proto's
trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

_DOUBLE = struct.Struct("<d").pack
_FIXED64 = struct.Struct("<Q").pack
_FIXED32 = struct.Struct("<I").pack
_INT64 = (1 << 64) - 1
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200  # SpanFlags


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: its tag byte(s), the length, the bytes."""
    return tag + _varint(len(payload)) + payload


def _text(tag: bytes, text: str) -> bytes:
    return _field(tag, text.encode("utf-8"))


def _any_value(value: Any) -> bytes:
    """An `AnyValue`'s fields (a oneof: string 1, bool 2, int 3, double 4, array 5, kvlist 6,
    bytes 7; set even to a zero value)."""
    if isinstance(value, str):
        return _text(b"\x0a", value)
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        return b"\x18" + _varint(value & _INT64)
    if isinstance(value, float):
        return b"\x21" + _DOUBLE(value)
    if value is None:
        return b""
    if isinstance(value, bytes):
        return _field(b"\x3a", value)
    if isinstance(value, Sequence):  # ArrayValue{values 1}
        return _field(b"\x2a", b"".join(_field(b"\x0a", _any_value(item)) for item in value))
    if isinstance(value, Mapping):  # KeyValueList{values 1}
        return _field(b"\x32", _attributes(b"\x0a", value))
    raise TypeError(f"an attribute value OTLP cannot hold: {type(value).__name__}")


class _Keys(dict[str, bytes]):
    """An attribute key's encoded `KeyValue.key` field, kept: the keys repeat in every span."""

    def __missing__(self, key: str) -> bytes:
        encoded = self[key] = _text(b"\x0a", key)
        return encoded


_KEYS = _Keys()


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> bytes:
    """Repeated `KeyValue{key 1, value 2}` fields under `tag`."""
    if not attributes:
        return b""
    keys = _KEYS
    return b"".join(
        _field(tag, keys[key] + _field(b"\x12", _any_value(value)))
        for key, value in attributes.items()
    )


def _flags(context: SpanContext | None) -> bytes:
    flags = _HAS_IS_REMOTE | (_IS_REMOTE if context is not None and context.is_remote else 0)
    return _FIXED32(flags)


def _trace_state(context: SpanContext) -> bytes:
    state = context.trace_state
    if not state:
        return b""
    return _text(b"\x1a", ",".join(f"{key}={value}" for key, value in state.items()))


def _count(tag: bytes, count: int) -> bytes:
    return tag + _varint(count) if count else b""


def _span(span: ReadableSpan) -> bytes:
    """One `Span`'s fields."""
    context = span.get_span_context()
    assert context is not None and span.start_time is not None and span.end_time is not None
    parts = [b"\x0a\x10", context.trace_id.to_bytes(16, "big"),
             b"\x12\x08", context.span_id.to_bytes(8, "big"), _trace_state(context)]
    parent = span.parent
    if parent is not None:
        parts += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
    parts += (_text(b"\x2a", span.name), b"\x30", _varint(span.kind.value + 1),
              b"\x39", _FIXED64(span.start_time), b"\x41", _FIXED64(span.end_time),
              _attributes(b"\x4a", span.attributes), _count(b"\x50", span.dropped_attributes))
    for event in span.events:  # Event{time 1, name 2, attributes 3, dropped 4}
        parts.append(_field(b"\x5a", b"\x09" + _FIXED64(event.timestamp)
                            + _text(b"\x12", event.name) + _attributes(b"\x1a", event.attributes)
                            + _count(b"\x20", event.dropped_attributes)))
    parts.append(_count(b"\x60", span.dropped_events))
    for link in span.links:  # Link{trace_id 1, span_id 2, attributes 4, dropped 5, flags 6}
        linked = link.context
        parts.append(_field(b"\x6a", b"\x0a\x10" + linked.trace_id.to_bytes(16, "big")
                            + b"\x12\x08" + linked.span_id.to_bytes(8, "big")
                            + _attributes(b"\x22", link.attributes)
                            + _count(b"\x28", link.dropped_attributes)
                            + b"\x35" + _flags(linked)))
    parts.append(_count(b"\x70", span.dropped_links))
    status = span.status  # Status{message 2, code 3}, always there as the SDK's encoder has it
    parts.append(_field(b"\x7a", (_text(b"\x12", status.description) if status.description
                                  else b"") + _count(b"\x18", status.status_code.value)))
    parts += (b"\x85\x01", _flags(parent))
    return b"".join(parts)


def encode_request(spans: Sequence[ReadableSpan]) -> bytes:
    """`ExportTraceServiceRequest{resource_spans 1}`: spans grouped by resource, then scope."""
    grouped: dict[Any, dict[Any, list[bytes]]] = {}
    for span in spans:
        by_scope = grouped.setdefault(span.resource, {})
        by_scope.setdefault(span.instrumentation_scope or None, []).append(
            _field(b"\x12", _span(span)))
    out = []
    for resource, scopes in grouped.items():
        # ResourceSpans{resource 1, scope_spans 2, schema_url 3}; Resource{attributes 1}
        body = [_field(b"\x0a", _attributes(b"\x0a", resource.attributes))]
        for scope, encoded in scopes.items():
            # ScopeSpans{scope 1, spans 2, schema_url 3}; InstrumentationScope{name, version,
            # attributes}
            described = b""
            if scope is not None:
                described = (_text(b"\x0a", scope.name) if scope.name else b"") + (
                    _text(b"\x12", scope.version) if scope.version else b"") + _attributes(
                    b"\x1a", scope.attributes)
            schema = scope.schema_url if scope is not None else None
            body.append(_field(b"\x12", _field(b"\x0a", described) + b"".join(encoded)
                               + (_text(b"\x1a", schema) if schema else b"")))
        if resource.schema_url:
            body.append(_text(b"\x1a", resource.schema_url))
        out.append(_field(b"\x0a", b"".join(body)))
    return b"".join(out)
