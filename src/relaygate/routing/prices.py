"""The built-in price table: US dollars per million tokens for well-known upstream models.

List prices of the providers' own pages (standard tier, no batch discount) as of
PRICES_AS_OF; docs/usage-ledger.md names the sources and the rules. A model's YAML
prices win over these, field by field (routing/registry.py fills what the YAML left out).

Lookup by upstream model name (`price_for`): the exact name; then, with any `vendor/` or
`models/` prefix removed; then with one dated or version suffix removed (`-2024-08-06`,
`-20250514`, `-001`, `-latest`, `-preview-05-20`, `-exp`), as long as what is left is in
the table. Nothing else: an unknown name has no price (its cost is None, never 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRICES_AS_OF = "2025-10-01"


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None  # None: cached input costs the input price
    request_usd: float | None = None


FREE = Price(0.0, 0.0, 0.0)  # the mock provider's every model

_P = Price
BUILT_IN: dict[str, Price] = {
    # OpenAI — https://platform.openai.com/docs/pricing (Standard)
    "gpt-5": _P(1.25, 10.00, 0.125),
    "gpt-5-chat": _P(1.25, 10.00, 0.125),
    "gpt-5-codex": _P(1.25, 10.00, 0.125),
    "gpt-5-mini": _P(0.25, 2.00, 0.025),
    "gpt-5-nano": _P(0.05, 0.40, 0.005),
    "gpt-5-pro": _P(15.00, 120.00),
    "gpt-4.1": _P(2.00, 8.00, 0.50),
    "gpt-4.1-mini": _P(0.40, 1.60, 0.10),
    "gpt-4.1-nano": _P(0.10, 0.40, 0.025),
    "gpt-4o": _P(2.50, 10.00, 1.25),
    "gpt-4o-2024-05-13": _P(5.00, 15.00),
    "gpt-4o-mini": _P(0.15, 0.60, 0.075),
    "o1": _P(15.00, 60.00, 7.50),
    "o1-mini": _P(1.10, 4.40, 0.55),
    "o1-pro": _P(150.00, 600.00),
    "o3": _P(2.00, 8.00, 0.50),
    "o3-pro": _P(20.00, 80.00),
    "o3-mini": _P(1.10, 4.40, 0.55),
    "o4-mini": _P(1.10, 4.40, 0.275),
    "gpt-4-turbo": _P(10.00, 30.00),
    "gpt-4": _P(30.00, 60.00),
    "gpt-3.5-turbo": _P(0.50, 1.50),
    "text-embedding-3-small": _P(0.02, 0.0),
    "text-embedding-3-large": _P(0.13, 0.0),
    "text-embedding-ada-002": _P(0.10, 0.0),
    "gpt-image-1": _P(5.00, 40.00, 1.25),  # text input, image output tokens
    # Anthropic — https://docs.anthropic.com/en/docs/about-claude/pricing (cache hits)
    "claude-opus-4-1": _P(15.00, 75.00, 1.50),
    "claude-opus-4": _P(15.00, 75.00, 1.50),
    "claude-opus-4-0": _P(15.00, 75.00, 1.50),
    "claude-sonnet-4-5": _P(3.00, 15.00, 0.30),
    "claude-sonnet-4": _P(3.00, 15.00, 0.30),
    "claude-sonnet-4-0": _P(3.00, 15.00, 0.30),
    "claude-3-7-sonnet": _P(3.00, 15.00, 0.30),
    "claude-3-5-sonnet": _P(3.00, 15.00, 0.30),
    "claude-haiku-4-5": _P(1.00, 5.00, 0.10),
    "claude-3-5-haiku": _P(0.80, 4.00, 0.08),
    "claude-3-opus": _P(15.00, 75.00, 1.50),
    "claude-3-haiku": _P(0.25, 1.25, 0.03),
    # Google — https://ai.google.dev/gemini-api/docs/pricing (paid tier, prompts <= 200k)
    "gemini-2.5-pro": _P(1.25, 10.00, 0.31),
    "gemini-2.5-flash": _P(0.30, 2.50, 0.075),
    "gemini-2.5-flash-lite": _P(0.10, 0.40, 0.025),
    "gemini-2.0-flash": _P(0.10, 0.40, 0.025),
    "gemini-2.0-flash-lite": _P(0.075, 0.30),
    "gemini-1.5-pro": _P(1.25, 5.00, 0.3125),
    "gemini-1.5-flash": _P(0.075, 0.30, 0.01875),
    "gemini-embedding-001": _P(0.15, 0.0),
}

# one trailing date or version: -2024-08-06, -20250514, -001, -latest, -preview[-05-20], -exp
_SUFFIX = re.compile(
    r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3}|latest|exp(?:-\d{2}-\d{2})?|preview(?:-\d{2}-\d{2})?)$"
)


def price_for(upstream_model: str) -> Price | None:
    """The built-in price of an upstream model name, or None when the table has none."""
    name = upstream_model.lower()
    price = BUILT_IN.get(name)
    if price is not None:
        return price
    name = name.rsplit("/", 1)[-1]  # "openai/gpt-4o", "models/gemini-2.5-pro"
    price = BUILT_IN.get(name)
    if price is not None:
        return price
    undated = _SUFFIX.sub("", name)
    return BUILT_IN.get(undated) if undated != name else None
