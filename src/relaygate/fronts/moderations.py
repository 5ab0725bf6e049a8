"""`POST /v1/moderations` (OpenAI's shape): a model configured on an OpenAI provider is
relayed through the model-call pipeline (keys, model scopes, limits, budgets, routing,
the ledger); any other model name, or none, is answered offline by the guardrails'
classifiers.

`input`: a string, a list of strings, or a list of content parts (`text`, `image_url`;
images are not classified offline)."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relaygate.errors import ModelNotFound
from relaygate.fronts.model_front import served_headers, task_call
from relaygate.lazy_import import import_module
from relaygate.moderations.task import ModerationTask
from relaygate.pipeline.call import Endpoint
from relaygate.services import Gateway

LOCAL_MODEL = "relaygate-moderation"
_MODULE = "relaygate.guardrails.moderation"  # loads the detectors on first use


def _configured(gateway: Gateway, model: str) -> bool:
    if model == LOCAL_MODEL:
        return False
    try:
        gateway.registry.plan(model)
    except ModelNotFound:
        return False
    return True


async def create_moderation(request: Request) -> Response:
    gateway, call = await task_call(request, Endpoint.MODERATIONS, ModerationTask.of,
                                    default_model=LOCAL_MODEL)
    if _configured(gateway, call.model):
        answer = await gateway.pipeline.run(call)
        assert answer.reply is not None
        return Response(answer.reply.body, media_type=answer.reply.content_type,
                        headers=served_headers(answer))
    assert isinstance(call.task, ModerationTask)
    module = await import_module(_MODULE)
    moderator = getattr(request.app.state, "moderator", None)
    if moderator is None:
        moderator = request.app.state.moderator = module.Moderator()
    return JSONResponse({
        "id": f"modr-{secrets.token_hex(12)}",
        "model": call.model,
        "results": [moderator.classify(text) for text in call.task.inputs],
    })


routes = [Route("/v1/moderations", create_moderation, methods=["POST"])]
