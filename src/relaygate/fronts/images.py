"""`POST /v1/images/generations` (OpenAI's shape) and `GET /v1/images/files/{token}`: the
images the gateway keeps, per tenant and for a while, for answers given as `url`."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relaygate.errors import NotFound
from relaygate.fronts.common import gateway_of
from relaygate.fronts.model_front import served_headers, task_call
from relaygate.images.task import ImageTask
from relaygate.images.wire import ImageResult, ResponseFormat, decode_request, encode_result
from relaygate.pipeline.call import Endpoint

FILES_PATH = "/v1/images/files"


def _task(body: dict[str, Any]) -> ImageTask:
    return ImageTask(decode_request(body))


async def create_images(request: Request) -> Response:
    gateway, call = await task_call(request, Endpoint.IMAGES, _task)
    answer = await gateway.pipeline.run(call)
    assert isinstance(answer.product, ImageResult) and isinstance(call.task, ImageTask)
    result = answer.product
    urls = None
    if call.task.request.response_format is ResponseFormat.URL:
        assert gateway.images is not None
        base = (gateway.settings.images.public_base_url or str(request.base_url)).rstrip("/")
        urls = []
        for image in result.images:
            token = await gateway.images.put(call.principal.tenant, image.data, image.mime_type)
            urls.append(f"{base}{FILES_PATH}/{token}")
    body = encode_result(result, urls, int(time.time()))
    return Response(orjson.dumps(body), media_type="application/json",
                    headers=served_headers(answer))


async def image_file(request: Request) -> Response:
    """A stored image, by its unguessable token (no key needed, like a signed URL)."""
    gateway = gateway_of(request)
    assert gateway.images is not None
    image = await gateway.images.get(request.path_params["token"])
    if image is None:
        raise NotFound("No such image: it expired or never existed.", code="image_not_found")
    max_age = int(gateway.images.ttl_seconds)
    return Response(image.data, media_type=image.mime_type,
                    headers={"Cache-Control": f"private, max-age={max_age}"})


routes = [
    Route("/v1/images/generations", create_images, methods=["POST"]),
    Route(FILES_PATH + "/{token}", image_file, methods=["GET"]),
]
