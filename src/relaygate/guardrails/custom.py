"""The `custom` guard: `module:function(text) -> verdict`, the deployment's own policy.

    from relaygate.guardrails.custom import Block

    def no_project_names(text: str) -> Block | str | None:
        if "Project Falcon" in text:
            return Block("names an internal project")  # the reason is shown; keep it generic
        return None  # allow (True does too); a str is the text with its parts masked
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relaygate.guardrails.findings import Finding


@dataclass(frozen=True, slots=True)
class Block:
    reason: str


Verdict = Block | str | bool | None
CustomCheck = Callable[[str], Verdict]


def load_function(reference: str) -> CustomCheck:
    """`package.module:function` → the function (ValueError naming what is wrong)."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a module that fails as it loads is a config error, not a crash
        raise ValueError(f"cannot import {module_name!r}: {exc}") from exc
    function: Any = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"{reference!r} is not a function")
    checked: CustomCheck = function
    return checked


class CustomDetector:
    spans = False

    def __init__(self, function: CustomCheck) -> None:
        self._function = function

    def find(self, text: str) -> list[Finding]:
        verdict = self._function(text)
        if verdict is None or verdict is True:
            return []
        if isinstance(verdict, Block):
            return [Finding(0, len(text), "CUSTOM", reason=verdict.reason)]
        if verdict is False:
            return [Finding(0, len(text), "CUSTOM")]
        if isinstance(verdict, str):
            return [] if verdict == text else [Finding(0, len(text), "CUSTOM", replacement=verdict)]
        raise TypeError(f"a custom guard returned {type(verdict).__name__}; "
                        "expected None, True, Block(reason) or the masked text")
