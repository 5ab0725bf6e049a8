"""A session's system prompt may be a Jinja template over its context variables
(`You help {{ user.name }}.`), rendered in Jinja's sandbox at every turn."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from relaygate.errors import InvalidRequest


def is_template(text: str | None) -> bool:
    return text is not None and ("{{" in text or "{%" in text)


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def check_template(text: str | None) -> None:
    """Refuse a system prompt that is not a valid template (400, param `system`)."""
    if not is_template(text):
        return
    try:
        _environment().parse(text or "")
    except TemplateError as exc:
        raise InvalidRequest(
            f"Invalid value for 'system': not a valid template: {exc}.",
            param="system",
            code="invalid_template",
        ) from None


def render_system(text: str, variables: dict[str, Any]) -> str:
    """The system prompt with the context variables filled in (missing ones are empty)."""
    if not is_template(text):
        return text
    try:
        return _environment().from_string(text).render(variables)
    except TemplateError as exc:
        raise InvalidRequest(
            f"The session's system prompt could not be rendered: {exc}.",
            param="system",
            code="template_error",
        ) from None
