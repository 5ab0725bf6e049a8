"""Model names → provider + upstream model: aliases, rewrites, `provider:model`, unknown."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import yaml

from relaygate.config import parse_settings
from relaygate.errors import ModelNotFound
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry
from tests.support.servers import GatewayProcess, run_gateway

CONFIG = """\
providers:
  mock: {type: mock}
  local: {type: mock}
models:
  - name: mock
    provider: mock
  - name: small
    provider: local
    model: echo
    context_window: 8192
aliases:
  default: small
  direct: local:echo-2
rewrites:
  - match: "gpt-4*"
    to: small
  - match: "claude-*"
    to: mock:mock
"""


@pytest.fixture
def registry() -> ModelRegistry:
    settings = parse_settings(CONFIG, "test.yaml", environ={})
    return ModelRegistry(settings, build_providers(settings.providers))


def test_configured_model(registry: ModelRegistry) -> None:
    route = registry.resolve("small")
    assert (route.model, route.provider.name, route.upstream_model) == ("small", "local", "echo")
    assert route.context_window == 8192
    assert registry.resolve("mock").upstream_model == "mock"  # defaults to its own name


def test_alias_keeps_the_client_name(registry: ModelRegistry) -> None:
    route = registry.resolve("default")
    assert (route.model, route.provider.name, route.upstream_model) == ("default", "local", "echo")
    assert route.context_window == 8192
    direct = registry.resolve("direct")
    assert (direct.provider.name, direct.upstream_model) == ("local", "echo-2")


def test_rewrites_match_globs_in_order(registry: ModelRegistry) -> None:
    route = registry.resolve("gpt-4o-mini")
    assert (route.model, route.provider.name, route.upstream_model) == (
        "gpt-4o-mini",
        "local",
        "echo",
    )
    claude = registry.resolve("claude-3-5-haiku")
    assert (claude.provider.name, claude.upstream_model) == ("mock", "mock")
    with pytest.raises(ModelNotFound):
        registry.resolve("gpt-3.5-turbo")  # "gpt-4*" does not match


def test_provider_prefix_reaches_any_model(registry: ModelRegistry) -> None:
    route = registry.resolve("local:anything-at-all")
    assert (route.provider.name, route.upstream_model) == ("local", "anything-at-all")
    assert registry.resolve("local:org/model:tag").upstream_model == "org/model:tag"


@pytest.mark.parametrize("name", ["unknown", "nowhere:model", "local:", ":echo"])
def test_unknown_model_is_not_found(registry: ModelRegistry, name: str) -> None:
    with pytest.raises(ModelNotFound) as caught:
        registry.resolve(name)
    assert caught.value.status == 404
    assert caught.value.param == "model"
    assert caught.value.code == "model_not_found"
    assert name in caught.value.message


def test_table_lists_everything(registry: ModelRegistry) -> None:
    rows = registry.table()
    assert ("small", "local", "echo") in rows
    assert ("default", "alias", "small") in rows
    assert ("gpt-4*", "rewrite", "small") in rows
    assert ("local:*", "local", "*") in rows
    assert registry.model_names() == ["mock", "small", "default", "direct"]


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with run_gateway(tmp_path_factory.mktemp("registry"), yaml.safe_load(CONFIG)) as process:
        yield process


def test_models_endpoint_lists_models_and_aliases(routed: GatewayProcess) -> None:
    body = httpx.get(f"{routed.base_url}/v1/models").json()
    assert body["object"] == "list"
    listed = {(item["id"], item["owned_by"]) for item in body["data"]}
    assert listed == {
        ("mock", "mock"),
        ("small", "local"),
        ("default", "alias"),
        ("direct", "alias"),
    }
    assert all(item["object"] == "model" for item in body["data"])


def test_model_endpoint_resolves_and_404s(routed: GatewayProcess) -> None:
    assert httpx.get(f"{routed.base_url}/v1/models/gpt-4o").json()["owned_by"] == "local"
    missing = httpx.get(f"{routed.base_url}/v1/models/unknown")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_chat_through_alias_and_rewrite(routed: GatewayProcess) -> None:
    for name in ("default", "gpt-4-turbo", "local:echo"):
        body = {"model": name, "messages": [{"role": "user", "content": "routed"}]}
        reply = httpx.post(f"{routed.base_url}/v1/chat/completions", json=body).json()
        assert reply["choices"][0]["message"]["content"] == "routed", name
