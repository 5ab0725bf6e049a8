"""A local server that speaks Gemini's generateContent wire format exactly.

Rules match tests/support/fake_openai.py so one matrix can check every provider: it
repeats the last user text (+ " [N image(s)]", + " [system: <text>]"), calls the first
declared function when the prompt says "Calculate" (args {"a": 5, "b": 3, "operation":
"add"}), and answers "The result is X." after a functionResponse. Model names choose
failures and special answers: `fail-<status>` (body from tests/samples/gemini/
error_<status>.json), `hang`, `malformed` (200, not JSON), `cut-stream` (closes midway),
`blocked` (promptFeedback.blockReason), `safety` (finishReason SAFETY), `thinking` (a
thought part + thoughtSignature), `no-usage` (no usageMetadata at all). maxOutputTokens
cuts the answer to that many words with finishReason MAX_TOKENS. With `api_key` set, a
wrong `x-goog-api-key` gets Gemini's 400 API_KEY_INVALID. Requests are kept in `requests`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_media import gemini_media

SAMPLES = Path(__file__).parent.parent / "samples" / "gemini"
CALC_ARGS = {"a": 5, "b": 3, "operation": "add"}


def _texts(content: dict[str, Any] | None) -> str:
    return "".join(
        part.get("text", "") for part in (content or {}).get("parts", []) if not part.get("thought")
    )


def _result_text(response: dict[str, Any]) -> str:
    if set(response) in ({"result"}, {"output"}, {"content"}):
        value = next(iter(response.values()))
        return value if isinstance(value, str) else json.dumps(value)
    return json.dumps(response)


def answer(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(text, functionCall parts) this fake model gives for a request body."""
    contents = body.get("contents", [])
    last_parts = contents[-1].get("parts", []) if contents else []
    results = [part["functionResponse"] for part in last_parts if "functionResponse" in part]
    if results:
        return f"The result is {_result_text(results[-1].get('response', {}))}.", []
    user_text = next(
        (_texts(c) for c in reversed(contents) if c.get("role", "user") == "user" and _texts(c)), ""
    )
    declarations = [
        d for tool in body.get("tools", []) for d in tool.get("functionDeclarations", [])
    ]
    mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode", "AUTO")
    if declarations and mode != "NONE" and "calculate" in user_text.lower():
        call = {"functionCall": {"name": declarations[0]["name"], "args": CALC_ARGS}}
        return "", [call]
    images = sum(
        1
        for c in contents
        for part in c.get("parts", [])
        if str(
            (part.get("inlineData") or part.get("fileData") or {}).get("mimeType", "")
        ).startswith("image/")
    )
    system = _texts(body.get("systemInstruction"))
    text = user_text
    if images:
        text += f" [{images} image(s)]"
    if system:
        text += f" [system: {system}]"
    return text, []


def _usage(body: dict[str, Any], words: int, thoughts: int = 0) -> dict[str, Any]:
    prompt = sum(len(_texts(c).split()) + 2 for c in body.get("contents", []))
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": words,
        "totalTokenCount": prompt + words + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _error(status: int) -> Response:
    sample = SAMPLES / f"error_{status}.json"
    if sample.exists():
        data = sample.read_bytes()
        code = int(json.loads(data)["error"]["code"])
        return Response(data, status_code=code, media_type="application/json")
    body = {
        "error": {
            "code": status,
            "message": f"fake upstream failure {status}",
            "status": "INTERNAL",
        }
    }
    return JSONResponse(body, status_code=status)


class FakeGemini:
    """The fake server's state; `app` is the ASGI application to serve."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.disconnected = asyncio.Event()
        self.app = Starlette(
            routes=[Route("/v1beta/models/{model_action:path}", self.handle, methods=["POST"])]
        )

    async def handle(self, request: Request) -> Response:
        self.paths.append(request.url.path + ("?" + request.url.query if request.url.query else ""))
        self.headers.append(dict(request.headers))
        if self.api_key is not None and request.headers.get("x-goog-api-key") != self.api_key:
            return _error(401)
        model, _, action = request.path_params["model_action"].rpartition(":")
        body = await request.json()
        self.requests.append(body)
        if model.startswith("fail-"):
            return _error(int(model.removeprefix("fail-")))
        if model == "hang":
            await asyncio.sleep(3600)
        if model == "malformed":
            return Response(b"<html>not json</html>", media_type="text/html")
        media = gemini_media(model, action, body)  # embeddings, images (fake_media.py)
        if media is not None:
            return media
        chunks = self._chunks(body, model)
        if action == "generateContent":
            return JSONResponse(self._merge(chunks))
        if action != "streamGenerateContent":
            return _error(404)
        if request.query_params.get("alt") == "sse":
            return StreamingResponse(self._sse(chunks, model), media_type="text/event-stream")
        return StreamingResponse(self._array(chunks), media_type="application/json")

    def _chunks(self, body: dict[str, Any], model: str) -> list[dict[str, Any]]:
        """The answer as stream chunks (generateContent merges them into one body)."""
        meta = {"modelVersion": model, "responseId": "fakeGeminiResponse01"}
        if model == "blocked":
            return [
                {
                    "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
                    "usageMetadata": _usage(body, 0),
                    **meta,
                }
            ]
        text, calls = answer(body)
        words = text.split(" ") if text else []
        finish = "STOP"
        limit = (body.get("generationConfig") or {}).get("maxOutputTokens")
        if limit is not None and len(words) > int(limit):
            words, finish = words[: int(limit)], "MAX_TOKENS"
        if model == "safety":
            words, finish = words[:1], "SAFETY"
        pieces: list[list[dict[str, Any]]] = []
        thoughts = 0
        if model == "thinking":
            pieces.append([{"text": "Let me think about this.", "thought": True}])
            thoughts = 5
        pieces += [[{"text": word if i == 0 else " " + word}] for i, word in enumerate(words)]
        pieces += [[call] for call in calls]
        if model == "thinking" and pieces:
            pieces[-1][-1]["thoughtSignature"] = "c2lnbmF0dXJlLWZha2U="
        if not pieces:
            pieces = [[{"text": ""}]]
        chunks = []
        for index, parts in enumerate(pieces):
            candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if index == len(pieces) - 1:
                candidate["finishReason"] = finish
            chunk: dict[str, Any] = {"candidates": [candidate], **meta}
            if model != "no-usage":
                done = index == len(pieces) - 1
                chunk["usageMetadata"] = _usage(
                    body, len(words) + len(calls) if done else 0, thoughts
                )
            chunks.append(chunk)
        return chunks

    @staticmethod
    def _merge(chunks: list[dict[str, Any]]) -> dict[str, Any]:
        merged = dict(chunks[-1])
        if "candidates" not in merged:
            return merged
        parts: list[dict[str, Any]] = []
        for chunk in chunks:
            for part in chunk["candidates"][0]["content"]["parts"]:
                if (
                    parts
                    and "text" in part
                    and "text" in parts[-1]
                    and bool(part.get("thought")) == bool(parts[-1].get("thought"))
                    and "thoughtSignature" not in parts[-1]
                ):
                    parts[-1] = {**parts[-1], **part, "text": parts[-1]["text"] + part["text"]}
                else:
                    parts.append(dict(part))
        candidate = {**chunks[-1]["candidates"][0], "content": {"parts": parts, "role": "model"}}
        merged["candidates"] = [candidate]
        return merged

    async def _sse(self, chunks: list[dict[str, Any]], model: str) -> AsyncIterator[bytes]:
        try:
            for index, chunk in enumerate(chunks):
                if model == "cut-stream" and index == 2:
                    raise ConnectionResetError("cut")
                yield b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n"
        except asyncio.CancelledError:
            self.disconnected.set()
            raise

    async def _array(self, chunks: list[dict[str, Any]]) -> AsyncIterator[bytes]:
        yield b"["
        for index, chunk in enumerate(chunks):
            yield (b",\r\n" if index else b"") + json.dumps(chunk, indent=2).encode()
        yield b"]"
