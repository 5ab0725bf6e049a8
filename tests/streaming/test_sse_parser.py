"""The SSE parser: a line that is not UTF-8 is the gateway's malformed-stream error."""

from __future__ import annotations

import pytest

from relaygate.errors import MalformedStream, UpstreamError
from relaygate.streaming.sse import SSEParser


def test_a_multibyte_character_split_across_chunks_is_one_event() -> None:
    parser = SSEParser()
    encoded = 'data: "café"\n\n'.encode()
    assert parser.feed(encoded[:10]) == []
    assert [event.data for event in parser.feed(encoded[10:])] == ['"café"']


def test_a_line_that_is_not_utf8_is_a_malformed_stream() -> None:
    with pytest.raises(MalformedStream) as raised:
        SSEParser().feed(b'data: {"text": "caf\xff"}\n\n')
    assert isinstance(raised.value, UpstreamError) and raised.value.status == 502
