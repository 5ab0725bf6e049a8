"""A custom guard for the tests: `tests.guardrails.custom_guards:no_falcon`."""

from __future__ import annotations

from relaygate.guardrails.custom import Block


def no_falcon(text: str) -> Block | str | None:
    if "Project Falcon" in text:
        return Block("It names an internal project.")
    if "codename" in text:
        return text.replace("codename", "[redacted]")
    return None
