"""scripts/smoke.py against local fakes: one line per model, failures shown as such."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import ThreadedServer

SCRIPT = Path(__file__).parent.parent / "scripts" / "smoke.py"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with (
        ThreadedServer(FakeOpenAI().app) as openai_up,
        ThreadedServer(FakeGemini(api_key="g-key").app) as gemini_up,
    ):
        settings = {
            "providers": {
                "oai": {
                    "type": "openai",
                    "base_url": f"{openai_up.base_url}/v1",
                    "api_key": "sk-x",
                },
                "gem": {
                    "type": "gemini",
                    "base_url": f"{gemini_up.base_url}/v1beta",
                    "api_key": "g-key",
                },
                "mock": {"type": "mock"},
                "spare": {"type": "mock"},
            },
            "models": [
                {"name": "gpt-fake", "provider": "oai"},
                {"name": "gemini-fake", "provider": "gem"},
                {"name": "quota", "provider": "gem", "model": "fail-429"},
                {"name": "mock", "provider": "mock"},
            ],
        }
        path = tmp_path_factory.mktemp("smoke") / "relaygate.yaml"
        path.write_text(yaml.safe_dump(settings))
        yield path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_one_line_per_model_and_failures_named(config: Path, stream: bool) -> None:
    result = run("--config", str(config), *(["--stream"] if stream else []))
    lines = result.stdout.splitlines()
    by_model = {line.split()[1]: line for line in lines if line.startswith(("ok", "FAIL"))}
    assert by_model["gpt-fake"].startswith("ok") and "pong" in by_model["gpt-fake"]
    assert by_model["gemini-fake"].startswith("ok") and "usage=upstream" in by_model["gemini-fake"]
    assert by_model["mock"].startswith("ok")
    assert by_model["fail-429"].startswith("FAIL")
    assert "upstream failure HTTP 429" in by_model["fail-429"] and "quota" in by_model["fail-429"]
    assert "spare:mock" in result.stdout and "no model configured" in result.stdout
    assert lines[-1] == "4 ok, 1 failed"
    assert result.returncode == 1


def test_bad_config_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers: [1, 2]\n")
    result = run("--config", str(bad))
    assert result.returncode == 2 and "config error" in result.stderr
