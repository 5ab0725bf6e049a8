"""The JSON the sessions API shows for a session, a message, usage and context (pure).

Times are seconds since the epoch (floats, millisecond precision).
"""

from __future__ import annotations

from typing import Any

from relaygate.store.sessions import SessionContextRow, SessionMessageRow, SessionRow


def _time(value: float) -> float:
    return round(value, 3)


def usage_json(row: SessionRow) -> dict[str, Any]:
    return {
        "object": "session.usage",
        "session_id": row.id,
        "model": row.model,
        "turns": row.turn_count,
        "messages": row.message_count,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cached_tokens": row.cached_tokens,
        "total_tokens": row.input_tokens + row.output_tokens,
        "history_tokens": row.history_tokens,
        "cost_usd": None if row.cost_usd is None else round(row.cost_usd, 8),
    }


def session_json(row: SessionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "session_id": row.id,
        "object": "session",
        "model": row.model,
        "allowed_models": row.allowed_models,
        "system": row.system,
        "tools": row.tools,
        "metadata": row.metadata_,
        "ttl_seconds": row.ttl_seconds,
        "max_context_tokens": row.max_context_tokens,
        "max_output_tokens": row.max_output_tokens,
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
        "expires_at": _time(row.expires_at),
        "message_count": row.message_count,
        "usage": {
            key: value
            for key, value in usage_json(row).items()
            if key not in ("object", "session_id", "model")
        },
    }


def text_of(content: Any) -> str:
    """A stored message's content (a string or a list of parts) as plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "output_text")
        )
    return ""


def content_json(content: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Text-only content as one string (as OpenAI Chat shows it), else the parts."""
    if all(part.get("type") == "text" for part in content):
        return "".join(str(part.get("text", "")) for part in content)
    return content


def message_json(row: SessionMessageRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"{row.session_id}.{row.seq}",
        "object": "session.message",
        "seq": row.seq,
        "turn": row.turn,
        "role": row.role,
        "content": content_json(row.content),
    }
    if row.tool_calls:
        body["tool_calls"] = row.tool_calls
    if row.tool_call_id is not None:
        body["tool_call_id"] = row.tool_call_id
    if row.name is not None:
        body["name"] = row.name
    if row.reasoning:
        body["reasoning"] = row.reasoning
    body["tokens"] = row.tokens
    if row.role == "assistant":
        body["usage"] = {
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "cached_tokens": row.cached_tokens,
        }
    body["metadata"] = row.metadata_
    body["created_at"] = _time(row.created_at)
    return body


def context_json(row: SessionContextRow) -> dict[str, Any]:
    return {"key": row.key, "value": row.value, "updated_at": _time(row.updated_at)}
