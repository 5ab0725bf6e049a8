"""Settings: the YAML file, `${ENV}` interpolation, environment overrides, the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaygate.config import (
    ConfigError,
    ProviderType,
    config_warnings,
    default_settings,
    load_settings,
    parse_settings,
)

GOOD = """\
server:
  port: 9000
providers:
  upstream:
    type: openai
    base_url: http://127.0.0.1:1/v1
    api_key: ${UPSTREAM_KEY}
    headers:
      X-Team: ${TEAM:-core}
models:
  - name: fast
    provider: upstream
    model: gpt-4o-mini
aliases:
  quick: fast
keys:
  - tenant: acme
    key: ${ACME_KEY}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relaygate.yaml"
    path.write_text(text)
    return path


def test_yaml_file_is_loaded_with_env_interpolation(tmp_path: Path) -> None:
    env = {"UPSTREAM_KEY": "sk-upstream", "ACME_KEY": "rg-acme"}
    settings = load_settings(_write(tmp_path, GOOD), environ=env)
    provider = settings.providers["upstream"]
    assert provider.type is ProviderType.OPENAI
    assert provider.api_key == "sk-upstream"
    assert provider.headers == {"X-Team": "core"}  # the `:-default` form
    assert settings.models[0].model == "gpt-4o-mini"
    assert settings.aliases == {"quick": "fast"}
    assert settings.keys[0].key == "rg-acme"
    assert settings.server.port == 9000


def test_missing_env_var_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, GOOD), environ={"ACME_KEY": "x"})
    assert "UPSTREAM_KEY" in str(caught.value)
    assert "relaygate.yaml" in str(caught.value)


def test_environment_overrides_host_port_and_log_level(tmp_path: Path) -> None:
    env = {
        "UPSTREAM_KEY": "k",
        "ACME_KEY": "k",
        "RELAYGATE_HOST": "0.0.0.0",
        "RELAYGATE_PORT": "9123",
        "RELAYGATE_LOG_LEVEL": "debug",
    }
    settings = load_settings(_write(tmp_path, GOOD), environ=env)
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 9123)
    assert settings.server.log_level == "debug"


def test_bad_port_override_is_an_error() -> None:
    with pytest.raises(ConfigError, match="RELAYGATE_PORT"):
        load_settings(None, environ={"RELAYGATE_PORT": "eighty"})


def test_no_file_gives_the_mock_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./relaygate.yaml here
    settings = load_settings(None, environ={})
    assert [model.name for model in settings.models] == ["mock", "echo"]
    assert settings.providers["mock"].type is ProviderType.MOCK
    assert settings.keys == []


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "server:\n  port: 9444\n")
    settings = load_settings(None, environ={"RELAYGATE_CONFIG": str(path)})
    assert settings.server.port == 9444
    assert {model.name for model in settings.models} == {"mock", "echo"}


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("server:\n  port: lots\n", 2, "server.port", "integer"),
        (
            "providers:\n  up:\n    type: openai\n    colour: red\n",
            4,
            "providers.up.colour",
            "Extra inputs",
        ),
        (
            "providers:\n  up:\n    type: telepathy\n",
            3,
            "providers.up.type",
            "Input should be",
        ),
        (
            "providers:\n  m:\n    type: mock\nmodels:\n  - name: a\n    provider: m\n"
            "  - name: b\n    provider: nowhere\n",
            8,
            "models.1.provider",
            "unknown provider 'nowhere'",
        ),
        (
            "providers:\n  m:\n    type: mock\nmodels:\n  - name: a\n    provider: m\n"
            "aliases:\n  short: missing\n",
            8,
            "aliases.short",
            "unknown model 'missing'",
        ),
        ("keys:\n  - tenant: t\n", 2, "keys.0", "exactly one of key, key_sha256"),
        ("keys:\n  - tenant: t\n    key_sha256: abc\n", 3, "keys.0.key_sha256", "64-character"),
    ],
)
def test_bad_file_names_field_and_line(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "gw.yaml", environ={})
    message = str(caught.value)
    assert f"gw.yaml: line {line}: {field}" in message
    assert words in message


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(_write(tmp_path, "server: [unclosed\n"), environ={})


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml", environ={})


def test_entries_with_one_name_are_deployments_of_one_group() -> None:
    text = ("providers:\n  m:\n    type: mock\n"
            "models:\n  - name: a\n    provider: m\n  - name: a\n    provider: m\n"
            "    model: echo\n    weight: 3\n")
    settings = parse_settings(text, "gw.yaml", environ={})
    assert [model.weight for model in settings.models] == [1.0, 3.0]


def test_two_deployments_with_one_id_are_refused() -> None:
    text = ("providers:\n  m:\n    type: mock\n"
            "models:\n  - name: a\n    provider: m\n  - name: a\n    provider: m\n")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "gw.yaml", environ={})
    assert ("gw.yaml: line 7: models.1: duplicate deployment id 'm/a' (also models.0, line 5); "
            "give one of them an `id:`") in str(caught.value)


@pytest.mark.parametrize(
    ("routing", "problem"),
    [
        ("  fallbacks:\n    a: [nowhere]\n",
         "line 11: routing.fallbacks.a.0: fallback to unknown model group 'nowhere'"),
        ("  fallbacks:\n    a: [b]\n    b: [a]\n",
         "line 11: routing.fallbacks.a: fallback cycle: a -> b -> a"),
        ("  context_window_fallbacks:\n    a: [a]\n",
         "routing.context_window_fallbacks.a.0: 'a' falls back to itself"),
        ("  rules:\n    - when: {tags: [code]}\n      to: missing\n",
         "routing.rules.0.to: rule to unknown model group or deployment 'missing'"),
        ("  models:\n    a: {strategy: fastest}\n", "routing.models.a.strategy: Input should be"),
    ],
)
def test_bad_routing_is_refused_by_name(routing: str, problem: str) -> None:
    text = ("providers:\n  m:\n    type: mock\n"
            "models:\n  - name: a\n    provider: m\n  - name: b\n    provider: m\n"
            "routing:\n" + routing)
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "gw.yaml", environ={})
    assert problem in str(caught.value)


def test_a_negative_weight_is_refused() -> None:
    text = ("providers:\n  m:\n    type: mock\n"
            "models:\n  - name: a\n    provider: m\n    weight: -1\n")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "gw.yaml", environ={})
    assert "line 7: models.0.weight: Input should be greater than or equal to 0" in str(caught.value)


def test_only_a_file_without_models_is_warned_about() -> None:
    bare = parse_settings("providers:\n  m:\n    type: mock\n", "gw.yaml", environ={})
    assert ["`m:<upstream model>`" in warning for warning in config_warnings(bare)] == [True]
    assert config_warnings(default_settings()) == []
