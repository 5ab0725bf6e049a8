"""The `guardrails:` and `guardrail_policy:` settings: named guards, and who they apply to."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

FUNCTION_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"
PII_ENTITIES = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS")
SECRET_KINDS = ("AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GCP_SERVICE_ACCOUNT", "GITHUB_TOKEN",
                "GITLAB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY", "ANTHROPIC_KEY", "OPENAI_KEY",
                "PRIVATE_KEY", "JWT", "URL_PASSWORD", "HIGH_ENTROPY")


class GuardType(StrEnum):
    PII = "pii"
    SECRETS = "secrets"
    INJECTION = "injection"
    REGEX = "regex"
    KEYWORDS = "keywords"
    MAX_INPUT_TOKENS = "max_input_tokens"
    CUSTOM = "custom"


class GuardOn(StrEnum):
    """Where a guard looks."""

    INPUT = "input"
    OUTPUT = "output"
    TOOL_ARGS = "tool_args"
    TOOL_RESULTS = "tool_results"


class GuardAction(StrEnum):
    BLOCK = "block"  # 400 guardrail_blocked (or, mid-stream, the front's error event)
    MASK = "mask"  # placeholders such as <EMAIL_1> instead of the text
    FLAG = "flag"  # passes; the hit is recorded


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JudgeSettings(_Strict):
    """A model through the gateway's own routing that rates a text (injection guards)."""

    model: str
    threshold: float = Field(default=0.5, ge=0, le=1)


class GuardSettings(_Strict):
    type: GuardType
    on: list[GuardOn] = Field(default_factory=lambda: [GuardOn.INPUT], min_length=1)
    action: GuardAction = GuardAction.BLOCK
    restore: bool = False  # mask: the client's answer gets the originals back
    entities: list[str] | None = None  # pii / secrets: which kinds; None: all
    regions: list[str] = Field(default_factory=lambda: ["US", "GB", "DE", "FR", "IN"])
    threshold: float = Field(default=0.5, ge=0, le=1)  # injection: score to act at
    judge: JudgeSettings | None = None  # injection: off by default
    patterns: list[str] = Field(default_factory=list)  # regex
    keywords: list[str] = Field(default_factory=list)  # keywords (whole words, any case)
    label: str | None = None  # regex / keywords: the placeholder's name (default the type)
    max_tokens: int | None = Field(default=None, gt=0)  # max_input_tokens
    function: str | None = Field(default=None, pattern=FUNCTION_PATTERN)  # custom
    hold_chars: int = Field(default=128, ge=8, le=65536)  # streams: characters held back

    @model_validator(mode="after")
    def _check(self) -> GuardSettings:
        kind = self.type
        known = {GuardType.PII: PII_ENTITIES, GuardType.SECRETS: SECRET_KINDS}.get(kind)
        if self.entities is not None:
            if known is None:
                raise ValueError(f"`entities` is for pii and secrets guards, not {kind.value}")
            unknown = sorted(set(self.entities) - set(known))
            if unknown:
                raise ValueError(f"unknown entities {unknown} (known: {', '.join(known)})")
        if kind is GuardType.REGEX:
            if not self.patterns:
                raise ValueError("a regex guard needs `patterns`")
            for index, pattern in enumerate(self.patterns):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(
                        f"patterns.{index}: not a valid regular expression: {exc}"
                    ) from None
        if kind is GuardType.KEYWORDS and not self.keywords:
            raise ValueError("a keywords guard needs `keywords`")
        if kind is GuardType.MAX_INPUT_TOKENS:
            if self.max_tokens is None:
                raise ValueError("a max_input_tokens guard needs `max_tokens`")
            if self.on != [GuardOn.INPUT]:
                raise ValueError("a max_input_tokens guard looks only at the input")
            if self.action is GuardAction.MASK:
                raise ValueError("a max_input_tokens guard can block or flag, not mask")
        if kind is GuardType.CUSTOM and self.function is None:
            raise ValueError("a custom guard needs `function: module:function`")
        if kind is GuardType.INJECTION and self.action is GuardAction.MASK:
            raise ValueError("an injection guard can block or flag, not mask")
        if self.restore and self.action is not GuardAction.MASK:
            raise ValueError("`restore` goes with `action: mask`")
        return self


class GuardPolicySettings(_Strict):
    """Which named guards apply to a call: every call's, its tenant's, its key's (by key
    name) and its model's (as the client named it), run in the order of `guardrails:`."""

    default: list[str] = Field(default_factory=list)
    tenants: dict[str, list[str]] = Field(default_factory=dict)
    keys: dict[str, list[str]] = Field(default_factory=dict)
    models: dict[str, list[str]] = Field(default_factory=dict)

    def references(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every guard name used, with where it is (for config errors)."""
        found: list[tuple[tuple[str | int, ...], str]] = [
            (("default", index), name) for index, name in enumerate(self.default)
        ]
        for section in ("tenants", "keys", "models"):
            mapping: dict[str, list[str]] = getattr(self, section)
            for owner, names in mapping.items():
                found.extend(((section, owner, index), name) for index, name in enumerate(names))
        return found
