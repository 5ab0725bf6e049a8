"""The shapes the client returns."""

from __future__ import annotations

from typing import Any, TypedDict


class CompletedResponse(TypedDict):
    """`complete_response`'s answer: the output text, the whole Response object, its usage."""

    text: str
    response: dict[str, Any]
    usage: dict[str, Any]


class StreamEvent(TypedDict):
    """One Server-Sent Event: its `event` name, its JSON `data`, and its `id` if any."""

    event: str
    data: dict[str, Any]
    id: str | None
