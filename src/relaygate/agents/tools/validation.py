"""Check a tool's arguments against its JSON schema before the call."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
from jsonschema.exceptions import best_match

from relaygate.agents.tools.errors import ToolArgumentsInvalid


def parse_arguments(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """The model's JSON text (or an already decoded object) as a dict."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        return text
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ToolArgumentsInvalid(f"The arguments are not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise ToolArgumentsInvalid("The arguments must be a JSON object.")
    return value


def _field_of(error: jsonschema.ValidationError) -> str | None:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = next(
            (name for name in error.validator_value if name not in (error.instance or {})), None
        )
        if missing is not None:
            path.append(str(missing))
    return ".".join(path) or None


def validate_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> None:
    """Raise ToolArgumentsInvalid (422, `param` = the field) when `arguments` do not fit."""
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    validator = validator_class(schema)
    error = best_match(validator.iter_errors(arguments))
    if error is None:
        return
    field = _field_of(error)
    where = f" (field '{field}')" if field else ""
    raise ToolArgumentsInvalid(f"Invalid arguments{where}: {error.message}.", param=field)


def check_schema(name: str, schema: dict[str, Any]) -> None:
    """Refuse a tool whose parameters are not a valid JSON schema (at registration)."""
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(
            f"tool {name!r}: its parameters are not a valid JSON schema: {exc.message}"
        ) from exc
