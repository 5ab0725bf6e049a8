"""Gemini's embeddings and image bodies in the provider direction (pure).

Embeddings: one text → `embedContent`, several → `batchEmbedContents`; Gemini reports no
usage for them (ours is counted). Images: Gemini's image models answer `generateContent`
with `responseModalities: [IMAGE]` (inline data, one image a call); Imagen models answer
`predict` (`sampleCount` images)."""

from __future__ import annotations

import base64
from typing import Any

from relaygate.embeddings.wire import EmbeddingRequest
from relaygate.errors import InvalidRequest
from relaygate.images.wire import GeneratedImage, ImageRequest, ImageResult

# OpenAI's sizes → Gemini's aspect ratios
ASPECT_RATIOS = {"1024x1024": "1:1", "256x256": "1:1", "512x512": "1:1", "1536x1024": "3:2",
                 "1024x1536": "2:3", "1792x1024": "16:9", "1024x1792": "9:16"}


def _content(text: str) -> dict[str, Any]:
    return {"parts": [{"text": text}]}


def embed_body(request: EmbeddingRequest, model: str) -> tuple[str, dict[str, Any]]:
    """(the action, the body) for the request's texts (token arrays are refused: 400)."""
    if request.tokens:
        raise InvalidRequest("Gemini embeds text only: send 'input' as strings, not token "
                             "arrays.", param="input", code="invalid_value")
    extra: dict[str, Any] = {}
    if request.dimensions is not None:
        extra["outputDimensionality"] = request.dimensions
    if request.single:
        return "embedContent", {"content": _content(request.texts[0]), **extra}
    name = model if model.startswith("models/") else f"models/{model}"
    requests = [{"model": name, "content": _content(text), **extra} for text in request.texts]
    return "batchEmbedContents", {"requests": requests}


def decode_embeddings(body: dict[str, Any]) -> list[list[float]]:
    items = body["embeddings"] if "embeddings" in body else [body["embedding"]]
    return [[float(value) for value in item["values"]] for item in items]


def is_imagen(model: str) -> bool:
    return model.removeprefix("models/").startswith("imagen")


def image_body(request: ImageRequest, model: str) -> dict[str, Any]:
    ratio = ASPECT_RATIOS.get(request.size or "")
    if is_imagen(model):
        parameters: dict[str, Any] = {"sampleCount": request.n}
        if ratio is not None:
            parameters["aspectRatio"] = ratio
        return {"instances": [{"prompt": request.prompt}], "parameters": parameters}
    config: dict[str, Any] = {"responseModalities": ["IMAGE"]}
    if ratio is not None:
        config["imageConfig"] = {"aspectRatio": ratio}
    return {"contents": [{"role": "user", "parts": [{"text": request.prompt}]}],
            "generationConfig": config}


def decode_images(body: dict[str, Any]) -> ImageResult:
    """A `predict` or a `generateContent` reply → its images and usage."""
    if "predictions" in body:
        images = [GeneratedImage(base64.b64decode(item["bytesBase64Encoded"]),
                                 item.get("mimeType", "image/png"))
                  for item in body["predictions"]]
        return ImageResult(images)
    images = []
    for candidate in body.get("candidates") or []:
        for part in (candidate.get("content") or {}).get("parts") or []:
            inline = part.get("inlineData") or part.get("inline_data")
            if inline:
                images.append(GeneratedImage(base64.b64decode(inline["data"]),
                                             inline.get("mimeType", "image/png")))
    usage = body.get("usageMetadata") or {}
    return ImageResult(images, int(usage.get("promptTokenCount") or 0),
                       int(usage.get("candidatesTokenCount") or 0))
