"""The context of one response: the chain before it, item references, the window.

`truncation: disabled` refuses input over the model's context window (400
context_length_exceeded); `auto` drops the oldest turns (a tool call and its results
together, the system instructions never) until it fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from relaygate.agents.tools.toolbox import Toolbox
from relaygate.errors import InvalidRequest, NotFound
from relaygate.routing.registry import Route, RoutePlan
from relaygate.services import Gateway
from relaygate.store.responses import Item, ResponseStore
from relaygate.tokens.tokenizer import count_prompt, prompt_token_ceiling
from relaygate.translate.responses.items import items_to_messages
from relaygate.translate.responses.request import ParsedRequest, build_call
from relaygate.types import Message, ModelCall, Role, ToolSpec

DEFAULT_CONTEXT_WINDOW = 1_000_000  # when the model's settings give none


@dataclass(slots=True)
class Prepared:
    """Everything a run needs: the new input (references resolved), the prior context,
    the route plan, the canonical call, and the gateway tools it asked for as hosted tools."""

    request: ParsedRequest
    prior: list[Item]
    input_items: list[Item]
    plan: RoutePlan
    call: ModelCall
    store: ResponseStore
    toolbox: Toolbox | None = None


async def response_store(gateway: Gateway) -> ResponseStore:
    """The stored responses (the agent services start on the first call)."""
    return ResponseStore((await gateway.agents()).database)


def previous_not_found(response_id: str) -> InvalidRequest:
    return InvalidRequest(
        f"Previous response with id '{response_id}' not found.",
        param="previous_response_id",
        code="previous_response_not_found",
    )


async def chain_before(store: ResponseStore, tenant: str, previous: str | None) -> list[Item]:
    """The chain's items up to and including `previous` (this tenant's only);
    `previous_response_not_found` when it is unknown."""
    if previous is None:
        return []
    items = await store.chain_items(tenant, previous)
    if items is None:
        raise previous_not_found(previous)
    return items


async def resolve_prior(store: ResponseStore, tenant: str, request: ParsedRequest) -> list[Item]:
    """The chain's items before this response."""
    return await chain_before(store, tenant, request.options.previous_response_id)


async def resolve_references(
    store: ResponseStore, tenant: str, items: list[Item], prior: list[Item]
) -> list[Item]:
    """Replace `item_reference`s by the items they name (this tenant's only)."""
    wanted = [str(item["id"]) for item in items if item["type"] == "item_reference"]
    if not wanted:
        return items
    known = {str(item.get("id")): item for item in prior}
    missing = [item_id for item_id in wanted if item_id not in known]
    known.update(await store.find_items(tenant, missing))
    resolved = []
    for index, item in enumerate(items):
        if item["type"] != "item_reference":
            resolved.append(item)
            continue
        found = known.get(str(item["id"]))
        if found is None:
            raise NotFound(
                f"Item with id '{item['id']}' not found.", param=f"input[{index}].id"
            )
        resolved.append(found)
    return resolved


def check_call_outputs(prior: list[Item], input_items: list[Item]) -> None:
    """Every `function_call_output` must answer a function call of the chain or of an
    earlier input item; 400 naming its `call_id` otherwise."""
    made = {item.get("call_id") for item in prior if item["type"] == "function_call"}
    for index, item in enumerate(input_items):
        if item["type"] == "function_call":
            made.add(item.get("call_id"))
        elif item["type"] == "function_call_output" and item.get("call_id") not in made:
            raise InvalidRequest(
                f"No tool call found for function call output with call_id '{item['call_id']}'.",
                param=f"input[{index}].call_id",
            )


def _units(messages: list[Message]) -> list[list[Message]]:
    units: list[list[Message]] = []
    for message in messages:
        if message.role is Role.TOOL and units:
            units[-1].append(message)
        else:
            units.append([message])
    return units


def fit_window(
    messages: list[Message],
    tools: list[ToolSpec],
    route: Route,
    *,
    reply_tokens: int,
    truncate: bool,
) -> list[Message]:
    """The messages that fit the model's window; raises context_length_exceeded."""
    window = route.context_window or DEFAULT_CONTEXT_WINDOW
    budget = window - reply_tokens
    if prompt_token_ceiling(messages, tools) <= budget:
        return messages  # fits for certain: no tokenizer to load, nothing to count
    model = route.upstream_model
    needed = count_prompt(messages, tools, model)
    if needed <= budget:
        return messages
    if not truncate:
        raise InvalidRequest(
            f"The input needs {needed} tokens (plus {reply_tokens} for the reply) but the "
            f"model's context window is {window} tokens; with truncation 'disabled' nothing "
            "is dropped. Shorten the input or set truncation to 'auto'.",
            param="input",
            code="context_length_exceeded",
        )
    fixed = [m for m in messages if m.role in (Role.SYSTEM, Role.DEVELOPER)][:1]
    units = _units([m for m in messages if not fixed or m is not fixed[0]])
    while len(units) > 1:
        units.pop(0)
        kept = fixed + [m for unit in units for m in unit]
        if count_prompt(kept, tools, model) <= budget:
            return kept
    raise InvalidRequest(
        f"The newest input alone exceeds the model's context window of {window} tokens.",
        param="input",
        code="context_length_exceeded",
    )


def prepare_call(
    request: ParsedRequest, prior: list[Item], input_items: list[Item], route: Route, *,
    stream: bool,
) -> ModelCall:
    """The canonical call over prior + input, fitted to the window."""
    options = request.options
    messages = items_to_messages([*prior, *input_items], options.instructions)
    call = build_call(options, messages, stream=stream)
    call.messages = fit_window(
        call.messages,
        call.tools,
        route,
        reply_tokens=options.max_output_tokens or 0,
        truncate=options.truncation == "auto",
    )
    return call
