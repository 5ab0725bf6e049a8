"""The container files, checked without an engine (scripts/container_build_check.py): the
Dockerfile's shape, compose.yaml against the Compose schema, the image's config file; and
that the checks do catch a broken file."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from relaygate.config import load_settings

ROOT = Path(__file__).resolve().parent.parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "container_build_check", ROOT / "scripts" / "container_build_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dockerfile_and_compose_pass() -> None:
    assert _script().static_problems(ROOT) == []


def test_broken_files_are_caught(tmp_path: Path) -> None:
    for name in ("Dockerfile", "compose.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    dockerfile = (tmp_path / "Dockerfile").read_text()
    (tmp_path / "Dockerfile").write_text(
        dockerfile.replace("USER relaygate", "USER root").replace("/readyz", "/healthz"))
    compose = (tmp_path / "compose.yaml").read_text()
    (tmp_path / "compose.yaml").write_text(compose.replace("restart: unless-stopped",
                                                           "restart: [always]", 1))
    problems = _script().static_problems(tmp_path)
    assert any("non-root" in problem for problem in problems)
    assert any("/readyz" in problem for problem in problems)
    assert any(problem.startswith("compose.yaml: ") and "restart" in problem
               for problem in problems), problems


def test_image_config_loads_from_environment() -> None:
    environ = {"OPENAI_API_KEY": "sk-from-env", "RELAYGATE_PORT": "9090",
               "RELAYGATE_REDIS_URL": "redis://redis:6379/0"}
    settings = load_settings(ROOT / "docker" / "relaygate.yaml", environ)
    assert settings.providers["openai"].api_key == "sk-from-env"
    assert settings.server.port == 9090 and settings.storage.redis_url == "redis://redis:6379/0"
