"""OpenAI's embeddings wire format: the request checked into an `EmbeddingRequest`, a
result encoded as OpenAI's list (floats, or base64 of little-endian float32)."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from relaygate.errors import InvalidRequest

MAX_INPUTS = 2048  # OpenAI's limit on one request's inputs
MAX_DIMENSIONS = 65_536


class EncodingFormat(StrEnum):
    FLOAT = "float"
    BASE64 = "base64"


@dataclass(slots=True)
class EmbeddingRequest:
    """One embeddings request: texts, or token arrays (never both)."""

    texts: list[str] = field(default_factory=list)
    tokens: list[list[int]] = field(default_factory=list)
    single: bool = False  # `input` was one string or one token array
    encoding_format: EncodingFormat = EncodingFormat.FLOAT
    dimensions: int | None = None
    user: str | None = None

    @property
    def count(self) -> int:
        return len(self.texts) or len(self.tokens)


@dataclass(slots=True)
class EmbeddingResult:
    vectors: list[list[float]]
    input_tokens: int
    estimated: bool = False  # the provider reported no usage: ours is counted


def _invalid(message: str, param: str = "input", code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _token_array(value: list[Any], where: str) -> list[int]:
    if not value:
        raise _invalid(f"Invalid value for '{where}': a token array must not be empty.")
    if not all(type(item) is int and item >= 0 for item in value):
        raise _invalid(f"Invalid value for '{where}': token ids must be whole numbers ≥ 0.",
                       code="invalid_type")
    return value


def _inputs(request: EmbeddingRequest, value: Any) -> None:
    if isinstance(value, str):
        if not value:
            raise _invalid("Invalid value for 'input': it must not be an empty string.")
        request.texts, request.single = [value], True
        return
    if not isinstance(value, list) or not value:
        raise _invalid("Invalid value for 'input': expected a string, a list of strings, a "
                       "token array or a list of token arrays.", code="invalid_type")
    if len(value) > MAX_INPUTS:
        raise _invalid(f"Invalid value for 'input': at most {MAX_INPUTS} inputs per request "
                       f"(got {len(value)}).")
    first = value[0]
    if isinstance(first, int) and not isinstance(first, bool):
        request.tokens, request.single = [_token_array(value, "input")], True
    elif isinstance(first, str):
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise _invalid(f"Invalid value for 'input[{index}]': expected a non-empty "
                               "string (one list holds strings or token arrays, not both).")
        request.texts = value
    elif isinstance(first, list):
        request.tokens = [
            _token_array(item if isinstance(item, list) else [None], f"input[{index}]")
            for index, item in enumerate(value)
        ]
    else:
        raise _invalid("Invalid value for 'input[0]': expected a string or a token array.",
                       code="invalid_type")


def decode_request(body: dict[str, Any]) -> EmbeddingRequest:
    """The checked request (400 naming the parameter otherwise)."""
    if "input" not in body:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    request = EmbeddingRequest()
    _inputs(request, body["input"])
    encoding = body.get("encoding_format")
    if encoding is not None:
        if encoding not in ("float", "base64"):
            raise _invalid(f"Invalid value for 'encoding_format': {encoding!r}; expected "
                           "'float' or 'base64'.", param="encoding_format")
        request.encoding_format = EncodingFormat(encoding)
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if type(dimensions) is not int or not 1 <= dimensions <= MAX_DIMENSIONS:
            raise _invalid("Invalid value for 'dimensions': expected a whole number from 1 to "
                           f"{MAX_DIMENSIONS}.", param="dimensions")
        request.dimensions = dimensions
    user = body.get("user")
    if user is not None:
        if not isinstance(user, str):
            raise _invalid("Invalid value for 'user': expected a string.", param="user",
                           code="invalid_type")
        request.user = user
    return request


def encode_vector(vector: list[float], encoding: EncodingFormat) -> list[float] | str:
    if encoding is EncodingFormat.BASE64:
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def encode_result(result: EmbeddingResult, request: EmbeddingRequest, model: str) -> dict[str, Any]:
    """OpenAI's `list` of `embedding` objects, with usage."""
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index,
             "embedding": encode_vector(vector, request.encoding_format)}
            for index, vector in enumerate(result.vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": result.input_tokens, "total_tokens": result.input_tokens},
    }
