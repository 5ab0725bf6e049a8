"""An OpenAI-compatible upstream that never reports usage: FakeOpenAI behind a filter
that drops `stream_options` from requests and `usage` from whole answers (many local
servers behave so)."""

from __future__ import annotations

import json

from starlette.types import Message as AsgiMessage
from starlette.types import Receive, Scope, Send

from tests.support.fake_openai import FakeOpenAI


class NoUsageUpstream:
    """FakeOpenAI behind a filter that removes every trace of usage."""

    def __init__(self) -> None:
        self.fake = FakeOpenAI()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_without_usage_request() -> AsgiMessage:
            message = await receive()
            if message["type"] == "http.request" and message.get("body"):
                body = json.loads(message["body"])
                body.pop("stream_options", None)
                message = {**message, "body": json.dumps(body).encode()}
            return message

        async def send_without_usage(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k != b"content-length"]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and message.get("body", b"").startswith(
                b"{"
            ):
                body = json.loads(message["body"])
                body.pop("usage", None)
                message = {**message, "body": json.dumps(body).encode()}
            await send(message)

        await self.fake.app(scope, receive_without_usage_request, send_without_usage)
