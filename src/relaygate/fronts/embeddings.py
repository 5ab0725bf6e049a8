"""`POST /v1/embeddings`: OpenAI's embeddings front, through the model-call pipeline.

To an OpenAI-compatible upstream the body is relayed as bytes (the usage read from the
reply's tail); any other provider (Gemini, the mock, a replay) answers with vectors that
are encoded here, as floats or base64, as the client asked."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relaygate.embeddings.task import EmbeddingTask
from relaygate.embeddings.wire import EmbeddingResult, decode_request, encode_result
from relaygate.fronts.model_front import served_headers, task_call
from relaygate.pipeline.call import Endpoint


def _task(body: dict[str, Any]) -> EmbeddingTask:
    return EmbeddingTask(decode_request(body))


async def create_embeddings(request: Request) -> Response:
    gateway, call = await task_call(request, Endpoint.EMBEDDINGS, _task)
    answer = await gateway.pipeline.run(call)
    headers = served_headers(answer)
    if answer.reply is not None:
        return Response(answer.reply.body, media_type=answer.reply.content_type,
                        headers=headers)
    assert isinstance(answer.product, EmbeddingResult) and isinstance(call.task, EmbeddingTask)
    body = encode_result(answer.product, call.task.request, call.model)
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


routes = [Route("/v1/embeddings", create_embeddings, methods=["POST"])]
