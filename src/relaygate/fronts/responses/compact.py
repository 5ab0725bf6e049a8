"""`POST /v1/responses/compact`: a conversation's items → its user messages plus one
compaction item carrying a model-written summary of everything else.

The compaction item's `encrypted_content` is the gateway's own opaque encoding (not
encryption); sent back as input it becomes a summary message for any provider.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.fronts.responses.context import chain_before, resolve_references, response_store
from relaygate.fronts.responses.create import json_response
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.translate.responses import wire
from relaygate.translate.responses.ids import new_id
from relaygate.translate.responses.items import (
    encode_compaction,
    items_to_messages,
    normalise_input,
)
from relaygate.translate.responses.request import validate_body
from relaygate.translate.responses.response import encode_usage
from relaygate.types import Message, ModelCall, Role, TextPart

SUMMARY_PROMPT = (
    "Summarize the conversation so far for your own later use: the user's goals, the "
    "facts established, decisions made, tool results and open questions. Be brief."
)


async def compact(request: Request) -> Response:
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    _, body = await read_json_object(request, gateway)
    parsed = validate_body(wire.CompactRequest, body)
    context.model = parsed.model
    store = await response_store(gateway)
    prior = await chain_before(store, principal.tenant, parsed.previous_response_id)
    items = [*prior, *await resolve_references(
        store, principal.tenant, normalise_input(parsed.input), prior
    )]
    messages = items_to_messages(items, parsed.instructions)
    call = ModelCall(
        model=parsed.model,
        messages=[*messages, Message(Role.USER, [TextPart(SUMMARY_PROMPT)])],
    )
    origin = Origin(principal, context.request_id, Endpoint.COMPACT, context)
    _, result = await gateway.pipeline.complete(origin.call(call))
    user_messages = [
        item for item in items if item["type"] == "message" and item["role"] == "user"
    ]
    compaction = {
        "type": "compaction",
        "id": new_id("cmp"),
        "encrypted_content": encode_compaction(result.message.text),
        "created_by": "relaygate",
    }
    return json_response(
        {
            "id": new_id("resp"),
            "object": "response.compaction",
            "output": [*user_messages, compaction],
            "created_at": int(time.time()),
            "usage": encode_usage(result.usage),
        }
    )
