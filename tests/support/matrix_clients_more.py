"""Matrix clients for the Gemini front (plain HTTP: the google SDK is not installed) and
the Responses front (the openai SDK); see matrix_clients.py."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.matrix_cases import (
    CALCULATOR_SCHEMA,
    KEY,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    Call,
    Case,
    Outcome,
    openai_client,
)

# --- Gemini generateContent (REST; the google SDK is not installed) ------------------------


def _gemini_body(case: Case) -> dict[str, Any]:
    contents: list[dict[str, Any]] = []
    for m in case.messages:
        if m.kind == "user":
            parts: list[dict[str, Any]] = [{"text": m.text}]
            if m.image:
                parts.append({"inlineData": {"mimeType": "image/png", "data": m.image}})
            contents.append({"role": "user", "parts": parts})
        elif m.kind == "assistant":
            contents.append({"role": "model", "parts": [{"text": m.text}]})
        elif m.kind == "call" and m.call:
            call = {"id": m.call.id, "name": m.call.name, "args": json.loads(m.call.arguments)}
            contents.append({"role": "model", "parts": [{"functionCall": call}]})
        elif m.kind == "tool" and m.call:
            result = {"id": m.call.id, "name": m.call.name, "response": {"result": m.text}}
            contents.append({"role": "user", "parts": [{"functionResponse": result}]})
    body: dict[str, Any] = {"contents": contents}
    if case.system:
        body["systemInstruction"] = {"parts": [{"text": case.system}]}
    if case.tools:
        body["tools"] = [
            {
                "functionDeclarations": [
                    {
                        "name": TOOL_NAME,
                        "description": TOOL_DESCRIPTION,
                        "parameters": CALCULATOR_SCHEMA,
                    }
                ]
            }
        ]
    if case.max_tokens:
        body["generationConfig"] = {"maxOutputTokens": case.max_tokens}
    return body


def _gemini_read(chunks: list[dict[str, Any]]) -> Outcome:
    out = Outcome()
    reason = ""
    for chunk in chunks:
        assert "error" not in chunk, chunk
        for candidate in chunk.get("candidates", [])[:1]:
            for part in candidate.get("content", {}).get("parts", []):
                if "functionCall" in part:
                    call = part["functionCall"]
                    out.calls.append(
                        Call(call.get("id", ""), call["name"], json.dumps(call.get("args", {})))
                    )
                elif not part.get("thought"):
                    out.text += part.get("text", "")
            reason = candidate.get("finishReason", reason)
        if chunk.get("promptFeedback", {}).get("blockReason"):
            reason = "BLOCKED_PROMPT"  # Gemini's way to say the prompt itself was refused
        usage = chunk.get("usageMetadata")
        if usage:
            out.input_tokens = usage.get("promptTokenCount", 0)
            out.output_tokens = usage.get("candidatesTokenCount", 0) + usage.get(
                "thoughtsTokenCount", 0
            )
    out.finish = {"STOP": "tool_calls" if out.calls else "stop", "MAX_TOKENS": "length"}.get(
        reason, "content_filter" if reason else ""
    )
    return out


def gemini_send(base_url: str, model: str, case: Case) -> Outcome:
    reply = httpx.post(
        f"{base_url}/v1beta/models/{model}:generateContent",
        json=_gemini_body(case),
        headers={"x-goog-api-key": KEY},
        timeout=30,
    )
    reply.raise_for_status()
    return _gemini_read([reply.json()])


def gemini_stream(base_url: str, model: str, case: Case) -> Outcome:
    url = f"{base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse"
    chunks = []
    with httpx.stream(
        "POST", url, json=_gemini_body(case), headers={"x-goog-api-key": KEY}, timeout=30
    ) as reply:
        if reply.status_code >= 400:
            reply.read()  # keep the error body for the caller
        reply.raise_for_status()
        for line in reply.iter_lines():
            if line.startswith("data:"):
                chunks.append(json.loads(line[5:]))
    return _gemini_read(chunks)


# --- OpenAI Responses -----------------------------------------------------------------------


def _responses_args(model: str, case: Case) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for m in case.messages:
        if m.kind == "user":
            content: list[dict[str, Any]] = [{"type": "input_text", "text": m.text}]
            if m.image:
                content.append(
                    {"type": "input_image", "image_url": f"data:image/png;base64,{m.image}"}
                )
            items.append({"role": "user", "content": content})
        elif m.kind == "assistant":
            items.append({"role": "assistant", "content": m.text})
        elif m.kind == "call" and m.call:
            items.append(
                {
                    "type": "function_call",
                    "call_id": m.call.id,
                    "name": m.call.name,
                    "arguments": m.call.arguments,
                }
            )
        elif m.kind == "tool" and m.call:
            items.append({"type": "function_call_output", "call_id": m.call.id, "output": m.text})
    args: dict[str, Any] = {"model": model, "input": items, "store": False}
    if case.system:
        args["instructions"] = case.system
    if case.tools:
        args["tools"] = [
            {
                "type": "function",
                "name": TOOL_NAME,
                "description": TOOL_DESCRIPTION,
                "parameters": CALCULATOR_SCHEMA,
                "strict": False,
            }
        ]
    if case.max_tokens:
        args["max_output_tokens"] = case.max_tokens
    return args


def _responses_read(response: Any) -> Outcome:
    out = Outcome(
        input_tokens=response.usage.input_tokens if response.usage else 0,
        output_tokens=response.usage.output_tokens if response.usage else 0,
    )
    for item in response.output:
        if item.type == "message":
            out.text += "".join(part.text for part in item.content if part.type == "output_text")
        elif item.type == "function_call":
            out.calls.append(Call(item.call_id, item.name, item.arguments))
    if response.status == "incomplete":
        reason = response.incomplete_details.reason if response.incomplete_details else ""
        out.finish = "length" if reason == "max_output_tokens" else "content_filter"
    else:
        out.finish = "tool_calls" if out.calls else "stop"
    return out


def responses_send(base_url: str, model: str, case: Case) -> Outcome:
    client = openai_client(base_url)
    return _responses_read(client.responses.create(**_responses_args(model, case)))


def responses_stream(base_url: str, model: str, case: Case) -> Outcome:
    client = openai_client(base_url)
    text = ""
    calls: dict[int, dict[str, str]] = {}
    final: Any = None
    for event in client.responses.create(**_responses_args(model, case), stream=True):
        if event.type == "response.output_text.delta":
            text += event.delta
        elif event.type == "response.output_item.added" and event.item.type == "function_call":
            calls[event.output_index] = {
                "id": event.item.call_id,
                "name": event.item.name,
                "arguments": "",
            }
        elif event.type == "response.function_call_arguments.delta":
            calls[event.output_index]["arguments"] += event.delta
        elif event.type in ("response.completed", "response.incomplete", "response.failed"):
            final = event.response
    assert final is not None, "the stream ended without a final response event"
    out = _responses_read(final)
    out.text = text
    out.calls = [Call(**calls[index]) for index in sorted(calls)]
    if out.calls and out.finish == "stop":
        out.finish = "tool_calls"
    return out
