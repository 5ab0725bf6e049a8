"""Values that satisfy a JSON schema, preferring hints taken from the prompt."""

from __future__ import annotations

from typing import Any


def example_for(schema: Any, name: str = "", hints: dict[str, Any] | None = None) -> Any:
    """A value valid against `schema`; `hints` maps property names to preferred values."""
    hints = hints or {}
    if not isinstance(schema, dict):
        return "example"
    if name in hints and _fits(hints[name], schema):
        return hints[name]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for(schema[key][0], name, hints)
    if "default" in schema and _fits(schema["default"], schema):
        return schema["default"]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    if kind == "object":
        properties = schema.get("properties") or {}
        wanted = set(schema.get("required") or []) | {key for key in properties if key in hints}
        return {
            key: example_for(value, key, hints)
            for key, value in properties.items()
            if key in wanted
        }
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [example_for(schema.get("items", {}), name, hints) for _ in range(count)]
    if kind == "integer":
        return int(_bounded(1, schema))
    if kind == "number":
        return float(_bounded(1, schema))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = "example"
    min_length = int(schema.get("minLength", 0))
    if len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _bounded(value: float, schema: dict[str, Any]) -> float:
    if "minimum" in schema:
        value = max(value, float(schema["minimum"]))
    if "exclusiveMinimum" in schema:
        value = max(value, float(schema["exclusiveMinimum"]) + 1)
    if "maximum" in schema:
        value = min(value, float(schema["maximum"]))
    return value


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if schema.get("enum") and value not in schema["enum"]:
        return False
    checks = {
        "string": lambda: isinstance(value, str),
        "integer": lambda: isinstance(value, int) and not isinstance(value, bool),
        "number": lambda: isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": lambda: isinstance(value, bool),
    }
    if isinstance(kind, str) and kind in checks:
        return checks[kind]()
    return True
