"""`relaygate migrate`, and `serve` refusing a database it cannot migrate."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml
from alembic.script import ScriptDirectory

from relaygate.store.schema import alembic_config


def _relaygate(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "RELAYGATE_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "relaygate", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def _config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump({"storage": {"database_url": database_url}}))
    return path


def test_migrate_brings_a_new_database_to_every_head(tmp_path: Path) -> None:
    db_file = tmp_path / "new.db"
    config = _config(tmp_path, f"sqlite+aiosqlite:///{db_file}")
    for _ in range(2):  # the second run finds nothing to do
        done = _relaygate("migrate", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert "up to date" in done.stdout
    with sqlite3.connect(db_file) as connection:
        versions = sorted(row[0] for row in connection.execute("select * from alembic_version"))
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert versions == sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert {"responses", "sessions", "agent_messages"} <= tables


def test_serve_refuses_a_database_it_cannot_reach_without_leaking_the_password(
    tmp_path: Path,
) -> None:
    url = "postgresql+asyncpg://relay:hunter2-secret@127.0.0.1:9/nowhere"
    done = _relaygate("serve", "--config", str(_config(tmp_path, url)), "--port", "9")
    assert done.returncode == 1
    assert "cannot migrate the database" in done.stderr
    assert "hunter2-secret" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    done = _relaygate("migrate", "--config", str(_config(tmp_path, url)))
    assert done.returncode == 1 and "cannot migrate the database" in done.stderr
