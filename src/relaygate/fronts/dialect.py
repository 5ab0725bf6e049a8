"""Which client API a request speaks where two share a path: the Gemini routes under `/v1`.

`google-genai` calls API version `v1` by default, whose model paths are also OpenAI's:

- `POST /v1/models/{model}:generateContent` (and `:streamGenerateContent`, `:countTokens`)
  is Gemini's alone: OpenAI has no POST under `/v1/models/`.
- `GET /v1/models` and `GET /v1/models/{name}` are OpenAI's list and retrieve, unless the
  request carries Gemini's credentials or client header (`x-goog-api-key`, `?key=`,
  `x-goog-api-client`), as every Google client sends: then they answer in Gemini's shape.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

GEMINI_HEADERS = ("x-goog-api-key", "x-goog-api-client")


def speaks_gemini(request: HTTPConnection) -> bool:
    """True for a request in Gemini's dialect: `/v1beta/…`, or the `/v1` model paths as
    above; everything else under `/v1` is OpenAI's (or Anthropic's `/v1/messages`)."""
    path = request.url.path
    if path.startswith("/v1beta/"):
        return True
    if path != "/v1/models" and not path.startswith("/v1/models/"):
        return False
    if request.scope.get("method") == "POST":
        return True
    return "key" in request.query_params or any(h in request.headers for h in GEMINI_HEADERS)
