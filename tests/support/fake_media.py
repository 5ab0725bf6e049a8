"""Embeddings and images as OpenAI's and Gemini's upstreams send them, for the fakes.

OpenAI: `POST /v1/embeddings` (float or base64 `embedding`, pretty-printed as OpenAI's
servers print it, `model` and `usage` last) and `POST /v1/images/generations` (b64_json
only for gpt-image models; dall-e ones answer a `url` unless asked for `b64_json`).
Gemini: `embedContent`, `batchEmbedContents` (each request's model must be the URL's),
image models' `generateContent` with inline data, Imagen's `predict`. The vectors are a
hash of the text (not the gateway's mock algorithm); the images a fixed 1×1 PNG.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def vector(text: str, dimensions: int) -> list[float]:
    out: list[float] = []
    counter = 0
    while len(out) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        out += [round(byte / 255 - 0.5, 6) for byte in digest]
        counter += 1
    return out[:dimensions]


def _openai_error(message: str, status: int = 400, param: str | None = None) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param,
                      "code": None}}
    return JSONResponse(body, status_code=status)


class FakeOpenAIMedia:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app_routes = [
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            Route("/v1/images/generations", self.images, methods=["POST"]),
        ]

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        model = body.get("model", "")
        if model.startswith("fail-"):
            return _openai_error("fake failure", int(model.removeprefix("fail-")))
        inputs = body["input"]
        if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        dimensions = body.get("dimensions") or 8
        data = []
        tokens = 0
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else ",".join(map(str, item))
            tokens += len(item.split()) if isinstance(item, str) else len(item)
            values = vector(text, dimensions)
            embedding: Any = values
            if body.get("encoding_format") == "base64":
                embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *values)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        reply: dict[str, Any] = {"object": "list", "data": data, "model": model}
        if model != "no-usage":
            reply["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return Response(json.dumps(reply, indent=2), media_type="application/json")

    async def images(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        model = body.get("model", "dall-e-2")
        if model.startswith("gpt-image") and "response_format" in body:
            return _openai_error("Unknown parameter: 'response_format'.", param="response_format")
        encoded = base64.b64encode(PNG_1X1).decode()
        as_url = not model.startswith("gpt-image") and body.get("response_format") != "b64_json"
        item = ({"url": "https://upstream.example/img.png"} if as_url else {"b64_json": encoded})
        reply: dict[str, Any] = {"created": 1_700_000_000,
                                 "data": [dict(item) for _ in range(body.get("n") or 1)]}
        if model.startswith("gpt-image"):
            prompt = len(body["prompt"].split())
            reply.update(background="opaque", output_format="png", quality="low",
                         size="1024x1024")
            reply["usage"] = {"input_tokens": prompt, "output_tokens": 272,
                              "total_tokens": prompt + 272,
                              "input_tokens_details": {"text_tokens": prompt, "image_tokens": 0}}
        return JSONResponse(reply)


GEMINI_MEDIA_ACTIONS = ("embedContent", "batchEmbedContents", "predict")


def gemini_media(model: str, action: str, body: dict[str, Any]) -> Response | None:
    """Gemini's answer for an embeddings or image request (None: not one of those)."""
    if action == "embedContent":
        dimensions = body.get("outputDimensionality") or 768
        text = "".join(part["text"] for part in body["content"]["parts"])
        return JSONResponse({"embedding": {"values": vector(text, dimensions)}})
    if action == "batchEmbedContents":
        out = []
        for item in body["requests"]:
            if item.get("model") != f"models/{model}":
                return JSONResponse({"error": {
                    "code": 400, "status": "INVALID_ARGUMENT",
                    "message": f"Model name in request ({item.get('model')}) does not match "
                               f"the model in the URL (models/{model})."}}, status_code=400)
            dimensions = item.get("outputDimensionality") or 768
            text = "".join(part["text"] for part in item["content"]["parts"])
            out.append({"values": vector(text, dimensions)})
        return JSONResponse({"embeddings": out})
    encoded = base64.b64encode(PNG_1X1).decode()
    if action == "predict":
        count = body.get("parameters", {}).get("sampleCount", 1)
        return JSONResponse({"predictions": [
            {"mimeType": "image/png", "bytesBase64Encoded": encoded} for _ in range(count)]})
    modalities = (body.get("generationConfig") or {}).get("responseModalities") or []
    if action == "generateContent" and "IMAGE" in modalities:
        prompt = sum(len(part.get("text", "").split()) for content in body["contents"]
                     for part in content["parts"])
        return JSONResponse({
            "candidates": [{"content": {"parts": [
                {"inlineData": {"mimeType": "image/png", "data": encoded}}], "role": "model"},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": 1290,
                              "totalTokenCount": prompt + 1290,
                              "promptTokensDetails": [{"modality": "TEXT",
                                                       "tokenCount": prompt}],
                              "candidatesTokensDetails": [{"modality": "IMAGE",
                                                           "tokenCount": 1290}]},
            "modelVersion": model, "responseId": "fakeGeminiImage01"})
    return None
