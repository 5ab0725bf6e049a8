"""How every model front says whose usage a response carries (docs/tokens.md).

Non-streamed answers carry an `X-Relaygate-Usage-Source: upstream|estimated` header;
streamed usage the gateway writes carries a `relaygate_usage_source` field where the wire
format tolerates extra fields (Chat's usage chunk, Anthropic's `message_delta` usage).
"""

from __future__ import annotations

from relaygate.types import Usage

USAGE_SOURCE_HEADER = "X-Relaygate-Usage-Source"


def source_header(usage: Usage | None) -> dict[str, str]:
    """The header naming the usage's source (none when there is no usage at all)."""
    return {USAGE_SOURCE_HEADER: usage.source.value} if usage is not None else {}
