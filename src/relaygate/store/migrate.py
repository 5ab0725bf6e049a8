"""Run the schema upgrade (`relaygate.store.schema`) in a child process.

`relaygate serve` starts it while the app loads and waits for it before listening, so
that Alembic, Mako and Pygments never sit in the serving process (about 10 MiB of RSS).
`relaygate migrate` runs the same child in the foreground."""

from __future__ import annotations

import os
import subprocess
import sys

URL_VARIABLE = "RELAYGATE_MIGRATE_DATABASE_URL"  # read by relaygate.store.schema


def start_child(url: str) -> subprocess.Popen[bytes]:
    """The upgrade of the database at `url`, started; wait for it with `finish_child`."""
    return subprocess.Popen(
        [sys.executable, "-m", "relaygate.store.schema"],
        env={**os.environ, URL_VARIABLE: url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish_child(child: subprocess.Popen[bytes]) -> str | None:
    """Wait for the child: None when the schema is up to date, else what went wrong."""
    _, errors = child.communicate()
    if child.returncode == 0:
        return None
    return errors.decode(errors="replace").strip() or f"exit status {child.returncode}"
