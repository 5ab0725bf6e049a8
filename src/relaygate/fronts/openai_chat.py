"""`POST /v1/chat/completions`: the OpenAI Chat Completions front.

Decode the request into a `Call`, run it through the pipeline (which relays the bytes to
an OpenAI-format upstream, or translates), encode what answered.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relaygate.errors import GatewayError
from relaygate.fronts.model_front import FrontFormat, model_call, serve
from relaygate.pipeline.call import Call, Endpoint
from relaygate.providers.base import WireFormat
from relaygate.relay.openai_chat import error_frames
from relaygate.routing.registry import Route as ModelRoute
from relaygate.streaming.sse import DONE, data_frame
from relaygate.translate.openai_chat.request import decode_request, read_prompt
from relaygate.translate.openai_chat.response import encode_result
from relaygate.translate.openai_chat.stream import ChunkEncoder
from relaygate.types import ErrorEvent, StreamEvent


class ChatFrames:
    """Canonical events → `data: <chunk>` frames, then `[DONE]`."""

    def __init__(self, call: Call, route: ModelRoute) -> None:
        include_usage = call.canonical().include_usage
        response_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self._encoder = ChunkEncoder(response_id, call.model, int(time.time()), include_usage)

    def start(self) -> Iterable[bytes]:
        return ()

    def encode(self, event: StreamEvent) -> Iterable[bytes]:
        return [data_frame(chunk) for chunk in self._encoder.encode(event)]

    def close(self) -> Iterable[bytes]:
        return [*(data_frame(chunk) for chunk in self._encoder.close()), DONE]

    def fail(self, error: GatewayError) -> bytes:
        return error_frames(error)

    def fail_event(self, event: ErrorEvent) -> bytes:
        error = GatewayError(event.message, code=event.type, status=event.status)
        error.type = event.type
        return error_frames(error)


CHAT = FrontFormat(
    wire=WireFormat.OPENAI_CHAT,
    endpoint=Endpoint.CHAT,
    encode_result=encode_result,
    stream_encoder=ChatFrames,
    read_prompt=read_prompt,
)


async def chat_completions(request: Request) -> Response:
    gateway, call = await model_call(request, CHAT, decode_request)
    return await serve(gateway, call, CHAT)


routes = [Route("/v1/chat/completions", chat_completions, methods=["POST"])]
