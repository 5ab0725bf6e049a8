"""How a stored response ends when the run that produced it cannot say so itself: a run
whose gateway instance stopped is ended `failed`; a stream whose events are gone is
answered with the stored response's terminal event alone."""

from __future__ import annotations

from typing import Any

from relaygate.translate.responses.response import Status

_EVENTS = {
    Status.COMPLETED: "response.completed",
    Status.INCOMPLETE: "response.incomplete",
    Status.FAILED: "response.failed",
}
CANCELLED_ERROR = {
    "type": "invalid_request_error",
    "code": "response_cancelled",
    "message": "The response was cancelled.",
    "param": None,
}


def failed(body: dict[str, Any], error: dict[str, str]) -> dict[str, Any]:
    """The stored response `body`, ended `failed` with `error`; items still open are
    `incomplete` (as a run that fails closes them)."""
    output = [
        {**item, "status": "incomplete"} if item.get("status") == "in_progress" else item
        for item in body.get("output") or []
    ]
    return {**body, "status": Status.FAILED.value, "error": dict(error), "output": output}


def terminal_event(body: dict[str, Any], sequence: int) -> dict[str, Any]:
    """The last event of a finished response's stream, numbered `sequence`: its terminal
    response event, or for a cancelled one the `error` that says so."""
    kind = _EVENTS.get(Status(body["status"]))
    if kind is None:
        return {"type": "error", "sequence_number": sequence, "error": dict(CANCELLED_ERROR)}
    return {"type": kind, "sequence_number": sequence, "response": body}
