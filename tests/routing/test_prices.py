"""Prices: the built-in table by upstream name (exact, then without a vendor prefix or a
dated suffix), YAML prices winning field by field, `provider:model` routes priced, the mock
free, an unknown model unpriced; `cost_of` charging cached input at the cached price."""

from __future__ import annotations

import pytest

from relaygate.config import Settings
from relaygate.providers.factory import build_providers
from relaygate.routing.prices import BUILT_IN, price_for
from relaygate.routing.registry import ModelRegistry, cost_of
from relaygate.types import Usage


@pytest.mark.parametrize(("name", "table_name"), [
    ("gpt-4o-mini", "gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # its own, older price
    ("o3-2025-04-16", "o3"),
    ("gpt-5-chat-latest", "gpt-5-chat"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
    ("anthropic/claude-opus-4-1-20250805", "claude-opus-4-1"),
    ("models/gemini-2.5-pro", "gemini-2.5-pro"),
    ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"),
    ("gemini-2.0-flash-001", "gemini-2.0-flash"),
])
def test_names_that_match_the_table(name: str, table_name: str) -> None:
    assert price_for(name) is BUILT_IN[table_name]


@pytest.mark.parametrize("name", ["llama-3-70b", "gpt-4o-audio-preview-x", "my-gpt-4o", ""])
def test_names_that_do_not(name: str) -> None:
    assert price_for(name) is None


def _registry(models: list[dict[str, object]]) -> ModelRegistry:
    settings = Settings.model_validate({
        "providers": {"mock": {"type": "mock"},
                      "oai": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}},
        "models": models,
    })
    return ModelRegistry(settings, build_providers(settings.providers))


def test_routes_take_built_in_prices_where_the_yaml_has_none() -> None:
    registry = _registry([
        {"name": "mini", "provider": "oai", "model": "gpt-4o-mini"},
        {"name": "cheap", "provider": "oai", "model": "gpt-4o-mini", "output_price_per_mtok": 0.5,
         "request_price_usd": 0.001},
        {"name": "own", "provider": "oai", "model": "in-house", "input_price_per_mtok": 1.0},
        {"name": "unknown", "provider": "oai", "model": "in-house"},
        {"name": "echo", "provider": "mock", "model": "gpt-4o"},
    ])
    mini = registry.resolve("mini")
    assert (mini.input_price_per_mtok, mini.output_price_per_mtok,
            mini.cached_input_price_per_mtok) == (0.15, 0.60, 0.075)
    cheap = registry.resolve("cheap")
    assert (cheap.input_price_per_mtok, cheap.output_price_per_mtok,
            cheap.request_price_usd) == (0.15, 0.5, 0.001)
    own = registry.resolve("own")
    assert (own.input_price_per_mtok, own.output_price_per_mtok) == (1.0, None)
    unknown = registry.resolve("unknown")
    assert cost_of(Usage(100, 100), unknown) is None  # no price: never a made-up 0
    assert cost_of(Usage(100, 100), registry.resolve("echo")) == 0.0  # the mock is free
    prefixed = registry.resolve("oai:claude-sonnet-4-20250514")
    assert (prefixed.input_price_per_mtok, prefixed.output_price_per_mtok) == (3.0, 15.0)
    assert registry.resolve("oai:in-house").input_price_per_mtok is None
    assert registry.resolve("mock:anything").output_price_per_mtok == 0.0


def test_cost_counts_cached_input_at_the_cached_price_and_adds_the_request_price() -> None:
    registry = _registry([
        {"name": "mini", "provider": "oai", "model": "gpt-4o-mini"},
        {"name": "flat", "provider": "oai", "model": "in-house", "input_price_per_mtok": 2.0,
         "output_price_per_mtok": 4.0, "request_price_usd": 0.01},
    ])
    # 1M input tokens of which 400k cached, 100k output
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_tokens=400_000)
    assert cost_of(usage, registry.resolve("mini")) == pytest.approx(
        0.6 * 0.15 + 0.4 * 0.075 + 0.1 * 0.60)
    # no cached price: cached tokens cost the input price
    assert cost_of(usage, registry.resolve("flat")) == pytest.approx(2.0 + 0.4 + 0.01)
