"""Turn pydantic validation errors into one precise, client-facing message and param."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from relaygate.errors import InvalidRequest

# loc segments pydantic adds for union members and discriminator tags, not field names
_NOT_FIELDS = {
    "str",
    "int",
    "float",
    "bool",
    "list",
    "dict",
    "none",
    "literal",
    "function-after",
    "function-before",
    "function-wrap",
    "tagged-union",
    "union",
}


def _segment_is_field(segment: str) -> bool:
    if segment in _NOT_FIELDS or "[" in segment or "'" in segment or segment[:1].isupper():
        return False  # union members show up as type names ("str", "NamedToolChoice")
    return segment.replace("_", "").isalnum()


def param_from_loc(loc: tuple[int | str, ...], tags: frozenset[str] = frozenset()) -> str:
    """('messages', 0, 'user', 'content') → 'messages[0].content'."""
    param = ""
    for segment in loc:
        if isinstance(segment, int):
            param += f"[{segment}]"
        elif _segment_is_field(segment) and segment not in tags:
            param += f".{segment}" if param else segment
    return param


T = TypeVar("T", bound=BaseModel)


def validate_wire(model: type[T], body: Any, tags: frozenset[str] = frozenset()) -> T:
    """Validate a decoded JSON body; raise InvalidRequest naming the first bad field."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_request_from(exc, tags) from None


def _most_specific(errors: list[ErrorDetails]) -> ErrorDetails:
    """The first error, unless it is one branch of a union (`content` as `str` when a list
    was sent): then the deepest error under the same field says more."""
    first = errors[0]
    loc = first["loc"]
    if not loc or not isinstance(loc[-1], str) or _segment_is_field(loc[-1]):
        return first
    prefix = loc[:-1]
    related = [error for error in errors if error["loc"][: len(prefix)] == prefix]
    return max(related, key=lambda error: len(error["loc"]))


def invalid_request_from(
    exc: ValidationError, tags: frozenset[str] = frozenset()
) -> InvalidRequest:
    error = _most_specific(exc.errors(include_url=False))
    param = param_from_loc(tuple(error["loc"]), tags)
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
        param = f"{param}.{discriminator}" if param else discriminator
        if error["type"] == "union_tag_not_found":
            return InvalidRequest(f"Missing required parameter: '{param}'.", param=param)
    if error["type"] == "missing":
        return InvalidRequest(f"Missing required parameter: '{param}'.", param=param)
    if error["type"] == "extra_forbidden":
        return InvalidRequest(f"Unrecognized request argument supplied: '{param}'.", param=param)
    got = error.get("input")
    got_type = type(got).__name__ if got is not None else "null"
    return InvalidRequest(
        f"Invalid value for '{param}': {error['msg']} (got {got_type}).",
        param=param,
        code="invalid_value" if error["type"] != "union_tag_invalid" else "invalid_type",
    )
