"""OpenAI's embeddings and images bodies in the provider direction (pure): our request →
the upstream's body, the upstream's reply → our result."""

from __future__ import annotations

import base64
import struct
from typing import Any

from relaygate.embeddings.wire import EmbeddingRequest, EmbeddingResult
from relaygate.images.wire import GeneratedImage, ImageRequest, ImageResult

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def encode_embeddings(request: EmbeddingRequest, upstream_model: str) -> dict[str, Any]:
    inputs: Any = request.texts or request.tokens
    if request.single:
        inputs = inputs[0]
    body: dict[str, Any] = {"model": upstream_model, "input": inputs, "encoding_format": "float"}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.user is not None:
        body["user"] = request.user
    return body


def _vector(value: Any) -> list[float]:
    if isinstance(value, str):  # base64 of little-endian float32
        raw = base64.b64decode(value)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return [float(number) for number in value]


def decode_embeddings(body: dict[str, Any]) -> EmbeddingResult:
    items = sorted(body["data"], key=lambda item: int(item.get("index", 0)))
    usage = body.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return EmbeddingResult([_vector(item["embedding"]) for item in items], int(tokens or 0),
                           estimated=tokens is None)


def encode_images(request: ImageRequest, upstream_model: str) -> dict[str, Any]:
    """gpt-image models always answer base64 and refuse `response_format`; the others are
    asked for base64 too, so the gateway holds the bytes whatever the client asked for."""
    body: dict[str, Any] = {"model": upstream_model, "prompt": request.prompt, "n": request.n,
                            **request.options}
    if not upstream_model.startswith("gpt-image"):
        body["response_format"] = "b64_json"
    return body


def decode_images(body: dict[str, Any]) -> ImageResult:
    mime = _MIME.get(str(body.get("output_format") or "png"), "image/png")
    images = [
        GeneratedImage(base64.b64decode(item["b64_json"]), mime, item.get("revised_prompt"))
        for item in body["data"]
    ]
    usage: dict[str, Any] = body.get("usage") or {}
    extra: dict[str, Any] = {key: body[key] for key in ("background", "output_format", "quality", "size")
             if key in body}
    created = body.get("created")
    return ImageResult(images, int(usage.get("input_tokens") or 0),
                       int(usage.get("output_tokens") or 0),
                       created=int(created) if isinstance(created, int) else None, extra=extra)
