"""Rendering a version in Jinja's immutable sandbox with strict undefined: compiled once per
version, then each call's variables checked against the schema and filled in.

A missing, unknown or mistyped variable is a 400 naming it (`prompt.variables.<name>`);
a template that reaches for an attribute outside the sandbox (`''.__class__`) is a 400
`template_unsafe`, never a leak."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relaygate.errors import InvalidRequest
from relaygate.prompts.content import VariableSpec, VersionContent
from relaygate.types import (
    Message,
    ResponseFormat,
    ResponseFormatType,
    Role,
    TextPart,
    ToolSpec,
)

_UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


@dataclass(slots=True)
class Compiled:
    """A version ready to render: its parts compiled, its parameters translated."""

    parts: list[tuple[Role, Template]]
    variables: list[VariableSpec]
    model: str | None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    response_format: ResponseFormat | None = None
    tools: list[ToolSpec] = field(default_factory=list)

    def render(self, variables: dict[str, Any], strict: bool = True,
               param: str = "prompt.variables") -> list[Message]:
        values = checked(self.variables, variables, param, strict)
        messages = []
        for role, template in self.parts:
            try:
                text = template.render(values)
            except SecurityError as exc:
                raise InvalidRequest(
                    f"The prompt template was refused: {exc}", param="prompt",
                    code="template_unsafe") from None
            except UndefinedError as exc:
                match = _UNDEFINED.search(str(exc))
                name = match.group(1) if match else None
                raise InvalidRequest(
                    f"Missing prompt variable: '{name}'." if name else
                    f"The prompt template could not be rendered: {exc}.",
                    param=f"{param}.{name}" if name else param,
                    code="missing_variable" if name else "template_error") from None
            except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
                raise InvalidRequest(f"The prompt template could not be rendered: {exc}.",
                                     param=param, code="template_error") from None
            messages.append(Message(role, [TextPart(text)]))
        return messages


def checked(specs: list[VariableSpec], given: dict[str, Any], param: str,
            strict: bool = True) -> dict[str, Any]:
    """The variables with their defaults, each of its declared type (a schema-less
    template takes what it is given); `strict`: one the schema lacks is a 400."""
    if not specs:
        return given
    declared = {spec.name for spec in specs}
    for name in given:
        if strict and name not in declared:
            raise InvalidRequest(
                f"Unknown prompt variable: '{name}' (the template declares: "
                f"{', '.join(sorted(declared))}).", param=f"{param}.{name}",
                code="unknown_variable")
    values = dict(given)
    for spec in specs:
        if spec.name not in values or values[spec.name] is None:
            if spec.default is not None:
                values[spec.name] = spec.default
                continue
            if spec.required:
                raise InvalidRequest(f"Missing prompt variable: '{spec.name}'.",
                                     param=f"{param}.{spec.name}", code="missing_variable")
            values[spec.name] = ""
            continue
        value = values[spec.name]
        wrong_bool = isinstance(value, bool) and spec.type in ("number", "integer")
        if wrong_bool or not isinstance(value, _TYPES[spec.type]):
            raise InvalidRequest(
                f"Invalid prompt variable '{spec.name}': expected {spec.type}, got "
                f"{_json_type(value)}.", param=f"{param}.{spec.name}",
                code="invalid_variable")
    return values


def compile_version(content: VersionContent) -> Compiled:
    """Compile every part (a syntax error is a GatewayError naming the part)."""
    env = environment()
    sources: list[tuple[Role, str, str]] = []
    if content.instructions is not None:
        sources.append((Role.SYSTEM, content.instructions, "instructions"))
    for index, message in enumerate(content.messages or []):
        sources.append((Role(message.role), message.content, f"messages[{index}].content"))
    parts = []
    for role, source, where in sources:
        try:
            parts.append((role, env.from_string(source)))
        except TemplateError as exc:
            raise InvalidRequest(f"Invalid value for '{where}': not a valid template: {exc}.",
                                 param=where, code="invalid_template") from None
    params = content.params
    compiled = Compiled(parts, list(content.variables), content.model)
    if params is not None:
        compiled.temperature = params.temperature
        compiled.top_p = params.top_p
        compiled.max_tokens = params.max_tokens
        compiled.response_format = _response_format(params.response_format)
        compiled.tools = [_tool(tool) for tool in params.tools or []]
    return compiled


def _response_format(value: dict[str, Any] | None) -> ResponseFormat | None:
    if value is None:
        return None
    kind = value.get("type", "text")
    try:
        format_type = ResponseFormatType(kind)
    except ValueError:
        raise InvalidRequest(f"Invalid value for 'params.response_format.type': {kind!r}.",
                             param="params.response_format.type") from None
    schema = value.get("json_schema") or {}
    return ResponseFormat(format_type, schema.get("name"), schema.get("schema"),
                          schema.get("strict"), schema.get("description"))


def _tool(value: dict[str, Any]) -> ToolSpec:
    """A function tool, in chat's shape (`{type, function: {...}}`) or the flat one."""
    spec = value.get("function", value)
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("Invalid value for 'params.tools': each tool needs a name.",
                             param="params.tools", code="invalid_value")
    return ToolSpec(name, spec.get("description"),
                    spec.get("parameters") or {"type": "object", "properties": {}},
                    spec.get("strict"))


def _json_type(value: Any) -> str:
    for name, types in (("boolean", (bool,)), ("integer", (int,)), ("number", (float,)),
                        ("string", (str,)), ("array", (list,)), ("object", (dict,))):
        if isinstance(value, types):
            return name
    return "null" if value is None else type(value).__name__
