"""Load custom tools and backends named in config as `module:attribute`."""

from __future__ import annotations

import importlib
from typing import Any

from relaygate.agents.tools.base import Tool
from relaygate.agents.tools.decorator import TOOL_ATTRIBUTE, tool_from_function


def load_object(reference: str) -> Any:
    """`package.module:name` → the object (ValueError with a clear message otherwise)."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{reference!r}: expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{reference!r}: cannot import {module_name!r}: {exc}") from exc
    value = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ValueError(f"{reference!r}: {module_name!r} has no {attribute!r}") from None
    return value


def load_tool(reference: str) -> Tool:
    """A Tool, a function marked with `@tool`, or a plain typed function."""
    value = load_object(reference)
    if isinstance(value, Tool):
        return value
    marked = getattr(value, TOOL_ATTRIBUTE, None)
    if isinstance(marked, Tool):
        return marked
    if callable(value):
        return tool_from_function(value)
    raise ValueError(f"{reference!r} is not a tool or a function")
