"""The `relaygate` command: `config check`, and `serve` refusing a bad file or warning
about a file that serves no model names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from relaygate.cli import main
from tests.support.servers import run_gateway

CONFIG = {
    "providers": {
        "up": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "${UP_KEY}"},
        "mock": {"type": "mock"},
    },
    "models": [
        {"name": "fast", "provider": "up", "model": "gpt-4o-mini"},
        {"name": "mock", "provider": "mock"},
    ],
    "aliases": {"quick": "fast"},
    "rewrites": [{"match": "gpt-4*", "to": "fast"}],
    "keys": [{"tenant": "acme", "key": "rg-secret-acme"}],
}
BAD = "server:\n  port: 8080\n  max_body_bytes: huge\n"


@pytest.fixture(autouse=True)
def _no_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELAYGATE_CONFIG", raising=False)


def test_config_check_prints_the_routing_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    monkeypatch.setenv("UP_KEY", "sk-up-secret")
    assert main(["config", "check", "--config", str(path)]) == 0
    out, err = capsys.readouterr()
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert rows[0] == ["MODEL", "PROVIDER", "UPSTREAM", "MODEL"]
    assert ["fast", "up", "gpt-4o-mini"] in rows
    assert ["mock", "mock", "mock"] in rows
    assert ["quick", "alias", "fast"] in rows
    assert ["gpt-4*", "rewrite", "fast"] in rows
    assert ["up:*", "up", "*"] in rows
    assert "1 API key(s) in the config file" in out
    assert "sk-up-secret" not in out + err
    assert "rg-secret-acme" not in out + err


def test_config_check_without_file_shows_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./relaygate.yaml here
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert ["echo", "mock", "echo"] in [line.split() for line in out.splitlines()]
    assert "no API keys and no admin key: the gateway runs open" in out


def test_config_check_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(BAD)
    with pytest.raises(SystemExit) as caught:
        main(["config", "check", "--config", str(path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "invalid configuration" in err
    assert f"{path}: line 3: server.max_body_bytes" in err


def test_missing_env_var_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    monkeypatch.delenv("UP_KEY", raising=False)
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--config", str(path)])
    assert caught.value.code == 2
    assert "UP_KEY" in capsys.readouterr().err


def test_serve_process_refuses_a_bad_file(tmp_path: Path) -> None:
    """The real command, as an operator runs it: exit code 2, no traceback, nothing served."""
    path = tmp_path / "gw.yaml"
    path.write_text(BAD)
    env = {key: value for key, value in os.environ.items() if key != "RELAYGATE_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "relaygate", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid configuration" in result.stderr
    assert "line 3: server.max_body_bytes" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout


NO_MODELS = {"providers": {"up": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"},
                           "mock": {"type": "mock"}}}
DUPLICATE = (
    "providers:\n  mock:\n    type: mock\n"
    "models:\n  - name: fast\n    provider: mock\n  - name: slow\n    provider: mock\n"
    "  - name: fast\n    provider: mock\n    model: echo\n"
)


def test_config_check_warns_when_no_models_are_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(NO_MODELS))
    assert main(["config", "check", "--config", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: no `models:` configured" in err
    assert "`mock:<upstream model>`" in err and "add a `models:` list" in err


def test_config_check_stays_quiet_when_models_are_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    monkeypatch.setenv("UP_KEY", "sk-up-secret")
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_config_check_prints_the_groups_of_deployments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(DUPLICATE)
    assert main(["config", "check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert ("group fast: weighted, up to 2 attempt(s); deployments: mock/fast (weight 1), "
            "mock/echo (weight 1)") in out


BAD_ROUTING = DUPLICATE + "routing:\n  fallbacks:\n    fast: [slow]\n    slow: [fast]\n"


def test_config_check_refuses_a_fallback_cycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(BAD_ROUTING)
    with pytest.raises(SystemExit) as caught:
        main(["config", "check", "--config", str(path)])
    assert caught.value.code == 2
    assert "routing.fallbacks.fast: fallback cycle: fast -> slow -> fast" in capsys.readouterr().err


def test_serve_process_refuses_bad_routing(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(BAD_ROUTING)
    env = {key: value for key, value in os.environ.items() if key != "RELAYGATE_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "relaygate", "serve", "--config", str(path)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 2
    assert "fallback cycle: fast -> slow -> fast" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout


def test_start_up_warns_when_no_models_are_configured(tmp_path: Path) -> None:
    with run_gateway(tmp_path, {"providers": {"mock": {"type": "mock"}}}) as gateway:
        body = {"messages": [{"role": "user", "content": "hi there"}]}
        url = f"{gateway.base_url}/v1/chat/completions"
        named = httpx.post(url, json={**body, "model": "echo"}, timeout=10)
        qualified = httpx.post(url, json={**body, "model": "mock:echo"}, timeout=10)
        logs = gateway.logs()
    assert named.status_code == 404 and qualified.status_code == 200
    warning = next(json.loads(line) for line in logs.splitlines() if "`models:`" in line)
    assert warning["level"] == "warning"
    assert "`mock:<upstream model>`" in warning["event"] and "add a `models:` list" in warning["event"]
