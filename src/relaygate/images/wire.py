"""OpenAI's image-generation wire format: the request checked into an `ImageRequest`, a
result encoded as OpenAI's `data` list (`b64_json`, or `url` to the gateway's own copy)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from relaygate.errors import InvalidRequest

MAX_IMAGES = 10
MAX_PROMPT_CHARS = 32_000
_OPTIONAL_STRINGS = ("size", "quality", "style", "background", "output_format", "moderation",
                     "user")


class ResponseFormat(StrEnum):
    URL = "url"
    B64_JSON = "b64_json"


@dataclass(slots=True)
class ImageRequest:
    prompt: str
    n: int = 1
    response_format: ResponseFormat = ResponseFormat.URL
    options: dict[str, Any] = field(default_factory=dict)  # size, quality, style, background…

    @property
    def size(self) -> str | None:
        size = self.options.get("size")
        return size if isinstance(size, str) else None


@dataclass(slots=True)
class GeneratedImage:
    data: bytes
    mime_type: str = "image/png"
    revised_prompt: str | None = None


@dataclass(slots=True)
class ImageResult:
    images: list[GeneratedImage]
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False
    created: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # gpt-image's size, quality, background…


def _invalid(message: str, param: str, code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def decode_request(body: dict[str, Any]) -> ImageRequest:
    prompt = body.get("prompt")
    if prompt is None:
        raise InvalidRequest("Missing required parameter: 'prompt'.", param="prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _invalid("Invalid value for 'prompt': expected a non-empty string.", "prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise _invalid(f"Invalid value for 'prompt': at most {MAX_PROMPT_CHARS} characters.",
                       "prompt")
    n = body.get("n", 1)
    if n is None:
        n = 1
    if type(n) is not int or not 1 <= n <= MAX_IMAGES:
        raise _invalid(f"Invalid value for 'n': expected a whole number from 1 to {MAX_IMAGES}.",
                       "n")
    request = ImageRequest(prompt, n)
    response_format = body.get("response_format")
    if response_format is not None:
        if response_format not in ("url", "b64_json"):
            raise _invalid(f"Invalid value for 'response_format': {response_format!r}; expected "
                           "'url' or 'b64_json'.", "response_format")
        request.response_format = ResponseFormat(response_format)
    for name in _OPTIONAL_STRINGS:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _invalid(f"Invalid value for '{name}': expected a string.", name, "invalid_type")
        request.options[name] = value
    compression = body.get("output_compression")
    if compression is not None:
        if type(compression) is not int or not 0 <= compression <= 100:
            raise _invalid("Invalid value for 'output_compression': expected 0 to 100.",
                           "output_compression")
        request.options["output_compression"] = compression
    return request


def encode_result(result: ImageResult, urls: list[str] | None, created: int) -> dict[str, Any]:
    """OpenAI's images response; `urls` (one per image) when the client asked for `url`."""
    data = []
    for index, image in enumerate(result.images):
        item: dict[str, Any] = (
            {"url": urls[index]} if urls is not None
            else {"b64_json": base64.b64encode(image.data).decode("ascii")}
        )
        if image.revised_prompt is not None:
            item["revised_prompt"] = image.revised_prompt
        data.append(item)
    body: dict[str, Any] = {"created": result.created or created, "data": data, **result.extra}
    if not result.estimated and (result.input_tokens or result.output_tokens):
        body["usage"] = {
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "total_tokens": result.input_tokens + result.output_tokens,
            "input_tokens_details": {"text_tokens": result.input_tokens, "image_tokens": 0},
        }
    return body
