"""A client's Responses request → the options the front needs and a canonical ModelCall."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from relaygate.errors import InvalidRequest
from relaygate.translate.responses import wire
from relaygate.translate.responses.items import Item, normalise_input
from relaygate.translate.validation import invalid_request_from, validate_wire
from relaygate.types import (
    Message,
    ModelCall,
    ResponseFormat,
    ResponseFormatType,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
)

EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
LOGPROBS = "message.output_text.logprobs"  # the `include` value that asks for logprobs
BodyT = TypeVar("BodyT", bound=BaseModel)


@dataclass(slots=True)
class ResponseOptions:
    """Every request field the response object echoes or the front acts on."""

    model: str
    store: bool = True
    background: bool = False
    stream: bool = False
    previous_response_id: str | None = None
    instructions: str | None = None
    truncation: str = "disabled"
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    parallel_tool_calls: bool = True
    tools: list[dict[str, Any]] = field(default_factory=list)  # function tools, echo shape
    hosted_tools: list[dict[str, Any]] = field(default_factory=list)  # other types, untouched
    tool_choice: str | dict[str, Any] = "auto"
    text: dict[str, Any] = field(default_factory=lambda: {"format": {"type": "text"}})
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    top_logprobs: int | None = None
    service_tier: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    user: str | None = None
    include: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParsedRequest:
    options: ResponseOptions
    items: list[Item]  # the new input, normalised; item references still unresolved


def _function_tool(raw: dict[str, Any], index: int) -> wire.FunctionTool:
    try:
        return wire.FunctionTool.model_validate(raw)
    except ValidationError as exc:
        error = invalid_request_from(exc)
        param = f"tools[{index}].{error.param}" if error.param else f"tools[{index}]"
        message = error.message.replace(f"'{error.param}'", f"'{param}'", 1)
        raise InvalidRequest(message, param=param, code=error.code) from None


def _tools(raw_tools: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    functions: list[dict[str, Any]] = []
    hosted: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_tools or []):
        kind = raw.get("type")
        if kind == "function":
            tool = _function_tool(raw, index)
            functions.append(
                {
                    "type": "function",
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                    "strict": tool.strict,
                }
            )
        elif isinstance(kind, str) and kind:
            hosted.append(raw)
        else:
            raise InvalidRequest(
                f"Missing required parameter: 'tools[{index}].type'.", param=f"tools[{index}].type"
            )
    return functions, hosted


def _tool_choice(choice: Any, tool_names: set[str]) -> str | dict[str, Any]:
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        return choice
    if isinstance(choice, wire.NamedFunction):
        if choice.name not in tool_names:
            raise InvalidRequest(
                f"Tool choice '{choice.name}' is not one of the tools provided.",
                param="tool_choice.name",
                code="invalid_value",
            )
        return {"type": "function", "name": choice.name}
    assert isinstance(choice, wire.AllowedTools)
    for index, tool in enumerate(choice.tools):
        if tool.name not in tool_names:
            raise InvalidRequest(
                f"Allowed tool '{tool.name}' is not one of the tools provided.",
                param=f"tool_choice.tools[{index}].name",
                code="invalid_value",
            )
    return {
        "type": "allowed_tools",
        "tools": [{"type": "function", "name": tool.name} for tool in choice.tools],
        "mode": choice.mode,
    }


def _text(options: wire.TextOptions | None) -> dict[str, Any]:
    fmt = options.format if options else None
    text: dict[str, Any]
    if fmt is None or isinstance(fmt, wire.TextFormatText):
        text = {"format": {"type": "text"}}
    elif isinstance(fmt, wire.TextFormatJsonObject):
        text = {"format": {"type": "json_object"}}
    else:
        text = {
            "format": {
                "type": "json_schema",
                "name": fmt.name,
                "description": fmt.description,
                "schema": fmt.schema_,
                "strict": bool(fmt.strict),
            }
        }
    if options is not None and options.verbosity is not None:
        text["verbosity"] = options.verbosity
    return text


def _with_item_types(body: Any) -> Any:
    """Items may omit `type`: `{role, content}` is a message, `{id}` an item reference."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return body
    items = []
    for item in body["input"]:
        if isinstance(item, dict) and item.get("type") is None:
            kind = "message" if "role" in item else "item_reference" if "id" in item else None
            if kind is not None:
                item = {**item, "type": kind}
        items.append(item)
    return {**body, "input": items}


def validate_body(model: type[BodyT], body: Any) -> BodyT:
    """Validate a Responses body (`create` or `compact`): the one parser of `input` items,
    which may omit `type`; raises InvalidRequest naming the bad field."""
    return validate_wire(model, _with_item_types(body), wire.ITEM_TAGS)


def parse_request(body: Any) -> ParsedRequest:
    """Validate a `POST /v1/responses` body; raises InvalidRequest naming the bad field."""
    request = validate_body(wire.CreateResponse, body)
    if not request.model:
        raise InvalidRequest("Missing required parameter: 'model'.", param="model")
    functions, hosted = _tools(request.tools)
    names = {tool["name"] for tool in functions}
    options = ResponseOptions(
        model=request.model,
        store=request.store,
        background=request.background,
        stream=request.stream,
        previous_response_id=request.previous_response_id,
        instructions=request.instructions,
        truncation=request.truncation,
        max_output_tokens=request.max_output_tokens,
        max_tool_calls=request.max_tool_calls,
        parallel_tool_calls=(
            request.parallel_tool_calls if request.parallel_tool_calls is not None else True
        ),
        tools=functions,
        hosted_tools=hosted,
        tool_choice=_tool_choice(request.tool_choice, names),
        text=_text(request.text),
        reasoning=request.reasoning.model_dump(exclude_none=False) if request.reasoning else None,
        metadata=dict(request.metadata or {}),
        temperature=request.temperature,
        top_p=request.top_p,
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        top_logprobs=request.top_logprobs,
        service_tier=request.service_tier,
        safety_identifier=request.safety_identifier,
        prompt_cache_key=request.prompt_cache_key,
        user=request.user,
        include=list(request.include or []),
    )
    if options.reasoning is not None:
        options.reasoning = {
            "effort": options.reasoning.get("effort"),
            "summary": options.reasoning.get("summary"),
        }
    return ParsedRequest(options, normalise_input(request.input))


def _canonical_tool_choice(choice: str | dict[str, Any]) -> ToolChoice:
    if isinstance(choice, str):
        return ToolChoice(ToolChoiceMode(choice))
    if choice["type"] == "function":
        return ToolChoice(ToolChoiceMode.NAMED, name=choice["name"])
    allowed = [tool["name"] for tool in choice["tools"]]
    return ToolChoice(ToolChoiceMode(choice["mode"]), allowed=allowed)


def _response_format(text: dict[str, Any]) -> ResponseFormat | None:
    fmt = text["format"]
    if fmt["type"] == "text":
        return None
    if fmt["type"] == "json_object":
        return ResponseFormat(ResponseFormatType.JSON_OBJECT)
    return ResponseFormat(
        ResponseFormatType.JSON_SCHEMA,
        name=fmt["name"],
        schema=fmt["schema"],
        strict=fmt["strict"],
        description=fmt["description"],
    )


def build_call(options: ResponseOptions, messages: list[Message], *, stream: bool) -> ModelCall:
    """The canonical call for this response over `messages` (the whole context)."""
    choice = _canonical_tool_choice(options.tool_choice)
    tools = [
        ToolSpec(
            name=tool["name"],
            description=tool["description"],
            parameters=tool["parameters"] or dict(EMPTY_PARAMETERS),
            strict=tool["strict"],
        )
        for tool in options.tools
    ]
    if choice.allowed is not None:  # enforce: the model only ever sees the allowed tools
        tools = [tool for tool in tools if tool.name in choice.allowed]
    reasoning = options.reasoning or {}
    return ModelCall(
        model=options.model,
        messages=messages,
        tools=tools,
        tool_choice=choice if options.tool_choice != "auto" else None,
        response_format=_response_format(options.text),
        temperature=options.temperature,
        top_p=options.top_p,
        max_tokens=options.max_output_tokens,
        user=options.safety_identifier or options.user,
        metadata=dict(options.metadata),
        parallel_tool_calls=options.parallel_tool_calls,
        presence_penalty=options.presence_penalty,
        frequency_penalty=options.frequency_penalty,
        reasoning_effort=reasoning.get("effort"),
        stream=stream,
        include_usage=stream,
        top_logprobs=(options.top_logprobs or 0) if LOGPROBS in options.include else None,
    )
