"""`@tool`: turn a typed Python function into a Tool, its JSON schema from the type hints.

    @tool(description="Look up a customer")
    async def lookup(customer_id: int, fields: list[str] | None = None) -> dict[str, Any]: ...

A parameter annotated `ToolContext` receives the caller's context (tenant, workspace).
`Annotated[int, "the id"]` adds a description. Sync functions run in a worker thread.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from relaygate.agents.tools.base import Tool, ToolContext

TOOL_ATTRIBUTE = "__relaygate_tool__"
_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def schema_for(annotation: Any) -> dict[str, Any]:
    """The JSON schema of one Python type."""
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        schema = schema_for(arguments[0])
        described = [item for item in arguments[1:] if isinstance(item, str)]
        return {**schema, "description": described[0]} if described else schema
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}
    if origin is Literal:
        return {"enum": list(arguments)}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation]}
    if origin in (Union, types.UnionType):
        options = [schema_for(item) for item in arguments if item is not type(None)]
        if type(None) in arguments:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set):
        items = schema_for(arguments[0]) if arguments else {}
        return {"type": "array", "items": items}
    if origin is dict or annotation is dict:
        return {"type": "object"}
    if annotation in (Any, inspect.Parameter.empty):
        return {}
    raise TypeError(f"cannot derive a JSON schema for {annotation!r}")


def _context_parameter(hints: dict[str, Any]) -> str | None:
    return next((name for name, hint in hints.items() if hint is ToolContext), None)


def parameters_schema(function: Callable[..., Any]) -> tuple[dict[str, Any], str | None]:
    """The object schema of the function's parameters, and the name of its context one."""
    hints = get_type_hints(function, include_extras=True)
    context_name = _context_parameter(hints)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, parameter in inspect.signature(function).parameters.items():
        if name == context_name or parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        ):
            continue
        prop = schema_for(hints.get(name, parameter.annotation))
        if parameter.default is parameter.empty:
            required.append(name)
        elif parameter.default is None or isinstance(parameter.default, str | int | float | bool):
            prop = {**prop, "default": parameter.default}
        properties[name] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema, context_name


def tool_from_function(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    dangerous: bool = False,
    source: str = "custom",
) -> Tool:
    schema, context_name = parameters_schema(function)
    is_async = inspect.iscoroutinefunction(function)
    tool_name = name or function.__name__

    async def run(arguments: dict[str, Any], context: ToolContext) -> Any:
        call_arguments = dict(arguments)
        if context_name is not None:
            call_arguments[context_name] = context
        if is_async:  # its failures become tool errors in ToolService.execute
            return await function(**call_arguments)
        return await asyncio.to_thread(functools.partial(function, **call_arguments))

    doc = inspect.getdoc(function) or ""
    return Tool(
        name=tool_name,
        description=description or doc.strip().split("\n\n")[0] or tool_name,
        function=run,
        parameters=schema,
        timeout=timeout,
        dangerous=dangerous,
        source=source,
    )


def tool(
    name: str | None = None,
    *,
    description: str | None = None,
    timeout: float | None = None,
    dangerous: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as a tool; it stays callable as it was."""

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        built = tool_from_function(
            function, name=name, description=description, timeout=timeout, dangerous=dangerous
        )
        setattr(function, TOOL_ATTRIBUTE, built)
        return function

    return mark
