"""A call's reference to a prompt template, as each front spells it (pure).

- Responses: `prompt: {id, version?, variables?}` (what the openai SDK sends);
- Chat, Anthropic, Gemini: `metadata.relaygate_prompt` (`"id@version"` or that object as
  JSON), or the headers `x-relaygate-prompt: id@version` and
  `x-relaygate-prompt-variables: {...}`;
- sessions: `metadata.relaygate_prompt` on the session, its context variables as variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from relaygate.errors import InvalidRequest

METADATA_KEY = "relaygate_prompt"
PROMPT_HEADER = "x-relaygate-prompt"
VARIABLES_HEADER = "x-relaygate-prompt-variables"
MAX_NAME = 200
TEMPLATES_OFF = ("Prompt templates are off: they need the admin API "
                 "(`admin: {key: ...}`) and `prompts.enabled`.")


@dataclass(slots=True)
class PromptRef:
    """Which template (id or name), which version (a version, a label, or None: the
    `production` label), the variables, and who the A/B choice sticks to."""

    template: str
    version: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    sticky: str | None = None  # a user id from the request; else the session or the key
    strict: bool = True  # False (a session's context): variables the schema lacks are ignored


def session_prompt(metadata: Mapping[str, Any], session_id: str,
                   variables: dict[str, Any]) -> PromptRef | None:
    """A session's template (its `metadata.relaygate_prompt`), filled by its context."""
    value = metadata.get(METADATA_KEY)
    if not isinstance(value, str):
        return None
    ref = from_text(value, f"metadata.{METADATA_KEY}")
    ref.variables, ref.sticky, ref.strict = variables, session_id, False
    return ref


def from_object(value: Any, param: str = "prompt") -> PromptRef:
    """`{id, version?, variables?}` (Responses' `prompt`)."""
    if not isinstance(value, dict):
        raise _invalid(param, "expected an object with 'id', 'version' and 'variables'")
    unknown = sorted(set(value) - {"id", "version", "variables"})
    if unknown:
        raise InvalidRequest(f"Unknown parameter: '{param}.{unknown[0]}'.",
                             param=f"{param}.{unknown[0]}", code="unknown_parameter")
    template = value.get("id")
    if not isinstance(template, str) or not 0 < len(template) <= MAX_NAME:
        raise _invalid(f"{param}.id", "expected the template's id or name")
    version = value.get("version")
    if version is not None and (not isinstance(version, str) or not version):
        raise _invalid(f"{param}.version", "expected a version ('v2') or a label")
    variables = value.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise _invalid(f"{param}.variables", "expected an object")
    return PromptRef(template, version, dict(variables))


def from_text(text: str, param: str) -> PromptRef:
    """`id@version`, `id` alone, or the object as JSON."""
    text = text.strip()
    if text.startswith("{"):
        return from_object(_json(text, param), param)
    template, _, version = text.partition("@")
    if not template or len(template) > MAX_NAME:
        raise _invalid(param, "expected 'id@version' or 'id'")
    return PromptRef(template, version or None)


def from_request(headers: Mapping[str, str], metadata: Mapping[str, Any] | None
                 ) -> PromptRef | None:
    """The headers' reference, else the metadata's; None when the request names none."""
    header = headers.get(PROMPT_HEADER)
    ref: PromptRef | None = None
    if header is not None:
        ref = from_text(header, PROMPT_HEADER)
    elif metadata is not None and METADATA_KEY in metadata:
        value = metadata[METADATA_KEY]
        ref = (from_text(value, f"metadata.{METADATA_KEY}") if isinstance(value, str)
               else from_object(value, f"metadata.{METADATA_KEY}"))
    if ref is None:
        return None
    raw = headers.get(VARIABLES_HEADER)
    if raw is not None:
        variables = _json(raw, VARIABLES_HEADER)
        if not isinstance(variables, dict):
            raise _invalid(VARIABLES_HEADER, "expected a JSON object")
        ref.variables = {**ref.variables, **variables}
    return ref


def sticky_user(body: Mapping[str, Any]) -> str | None:
    """A user id the request carries: `user`, `safety_identifier`, or metadata's
    `user_id` / `user` (Anthropic's `metadata.user_id`)."""
    for name in ("safety_identifier", "user"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return value
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        for name in ("user_id", "user"):
            value = metadata.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def _json(text: str, param: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _invalid(param, "expected JSON") from None


def _invalid(param: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid value for '{param}': {expected}.", param=param,
                          code="invalid_prompt")
