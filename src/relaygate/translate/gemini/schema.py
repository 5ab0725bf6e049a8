"""JSON Schema ↔ the OpenAPI subset Gemini accepts in `parameters` and `responseSchema`."""

from __future__ import annotations

from typing import Any

# Keys Gemini's Schema object understands; everything else is dropped (see docs/translation.md).
_KEPT = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)


def to_gemini_schema(schema: Any) -> Any:
    """A JSON Schema → Gemini's Schema: `const` → one-value enum, `oneOf` → `anyOf`,
    `type: [x, "null"]` → `type: x, nullable: true`; unsupported keywords dropped."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "const":
            out["enum"] = [value]
        elif key == "oneOf":
            out["anyOf"] = [to_gemini_schema(item) for item in value]
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            out["type"] = kinds[0] if kinds else "null"
            if len(kinds) < len(value):
                out["nullable"] = True
        elif key not in _KEPT:
            continue
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: to_gemini_schema(item) for name, item in value.items()}
        elif key == "items" or key == "anyOf":
            out[key] = (
                [to_gemini_schema(item) for item in value]
                if isinstance(value, list)
                else to_gemini_schema(value)
            )
        else:
            out[key] = value
    return out


def from_gemini_schema(schema: Any) -> Any:
    """Gemini's Schema → JSON Schema: enum type names lowercased, `nullable` → a type list."""
    if isinstance(schema, list):
        return [from_gemini_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: from_gemini_schema(item) for name, item in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
            out[key] = from_gemini_schema(value)
        elif key == "nullable":
            continue
        else:
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out
