"""Bad limits in the config are errors that name the field, never silently ignored."""

from __future__ import annotations

import pytest

from relaygate.config import ConfigError, parse_settings

KEY = "keys:\n  - tenant: acme\n    key: sk-0123456789abcdef\n    limits: {limits}\n"


@pytest.mark.parametrize(("limits", "field"), [
    ("{rpm: -1}", "rpm"),
    ("{tpm: 0}", "tpm"),
    ("{max_concurrent: 0}", "max_concurrent"),
    ("{tokens_per_day: -5}", "tokens_per_day"),
    ("{rpmm: 10}", "rpmm"),
])
def test_a_bad_key_limit_is_a_config_error_naming_the_field(limits: str, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(KEY.format(limits=limits), "relaygate.yaml")
    assert field in str(caught.value)


@pytest.mark.parametrize(("text", "field"), [
    ("limits: {default: {rpm: 0}}", "rpm"),
    ("limits: {models: {mock: {burst: 3}}}", "burst"),
    ("limits: {on_redis_error: maybe}", "on_redis_error"),
    ("limits: {lease_seconds: 0}", "lease_seconds"),
    ("limits: {windows: 3}", "windows"),
])
def test_bad_gateway_limits_are_config_errors_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "relaygate.yaml")
    assert field in str(caught.value)
