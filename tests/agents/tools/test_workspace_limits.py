"""The workspace size cap and the sweep of stale workspaces, end to end through a gateway
process: `POST /api/tools/{name}/invoke` in each tenant's shared workspace, the files
checked on disk."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import GatewayProcess, run_gateway

CAP = 64 * 1024
TENANTS = ["writer", "filler", "stale", "fresh"]
READONLY = "writer-readonly-123456"


@pytest.fixture(scope="module")
def workspaces() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="relaygate-quota-test-"))
    root.chmod(0o755)  # the sandbox uid must be able to reach its workspace
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def gateway(workspaces: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "keys": [
            *({"tenant": tenant, "key": f"{tenant}-key-123456"} for tenant in TENANTS),
            {"tenant": "writer", "key": READONLY, "name": "readonly"},
        ],
        "tools": {
            "default_policy": {"mode": "allow_all", "allow": ["bash", "python"]},
            "keys": {"readonly": {"mode": "deny_list", "deny": ["write_file"]}},
            "workspace_root": str(workspaces),
            "workspace_max_bytes": CAP,
            "workspace_ttl_seconds": 3600,
            "workspace_sweep_interval_seconds": 0.2,
            "sandbox": {"timeout_seconds": 5},
        },
    }
    with run_gateway(tmp_path_factory.mktemp("quota"), config) as process:
        yield process


def _invoke(gateway: GatewayProcess, tenant: str, tool: str, **arguments: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant}-key-123456"}
    return httpx.post(
        f"{gateway.base_url}/api/tools/{tool}/invoke", json=arguments, headers=headers, timeout=30
    )


def _refused(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "tool_error" and error["code"] == "workspace_full"
    message: str = error["message"]
    return message


def test_a_write_that_would_pass_the_cap_is_refused(
    gateway: GatewayProcess, workspaces: Path
) -> None:
    shared = workspaces / "writer" / "shared"
    first = _invoke(gateway, "writer", "write_file", path="a.txt", content="a" * 40_000)
    assert first.status_code == 200, first.text
    refused = _invoke(gateway, "writer", "write_file", path="notes/b.txt", content="b" * 30_000)
    message = _refused(refused)
    assert "would take this workspace to 70000 bytes" in message
    assert f"over its limit of {CAP} bytes" in message and "delete_file" in message
    assert sorted(os.listdir(shared)) == ["a.txt"]  # neither the file nor its directory
    grown = _invoke(gateway, "writer", "write_file", path="a.txt", content="a" * 60_000)
    assert grown.status_code == 200, grown.text  # an overwrite counts what it replaces
    _refused(
        _invoke(gateway, "writer", "write_file", path="a.txt", content="x" * 10_000, append=True)
    )
    assert (shared / "a.txt").stat().st_size == 60_000
    denied = httpx.post(
        f"{gateway.base_url}/api/tools/delete_file/invoke",
        json={"path": "a.txt"},
        headers={"Authorization": f"Bearer {READONLY}"},
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "tool_denied"
    assert (shared / "a.txt").exists()  # a key kept from writing may not delete either


def test_a_sandboxed_run_past_the_cap_blocks_writing_until_files_are_deleted(
    gateway: GatewayProcess, workspaces: Path
) -> None:
    shared = workspaces / "filler" / "shared"
    fill = _invoke(
        gateway,
        "filler",
        "bash",
        command="ln -s / everything; echo hello > note.txt; head -c 100000 /dev/zero > big.bin; "
        "sleep 4; echo still running",
    )
    stopped = _refused(fill)  # seen over the cap while it ran (test_workspace_run_limits.py)
    assert stopped.startswith("The bash run was stopped before it ended.")
    assert f"holds 100006 bytes, over its limit of {CAP} bytes" in stopped
    assert "delete_file" in stopped

    message = _refused(_invoke(gateway, "filler", "bash", command="echo more > more.txt"))
    assert "holds 100006 bytes" in message and "bash, python and write_file are refused" in message
    _refused(_invoke(gateway, "filler", "python", code="open('more.txt', 'w').write('x')"))
    _refused(_invoke(gateway, "filler", "write_file", path="more.txt", content="x"))
    assert not (shared / "more.txt").exists()
    read = _invoke(gateway, "filler", "read_file", path="note.txt")
    assert read.status_code == 200 and read.json()["output"]["content"] == "hello\n"

    deleted = _invoke(gateway, "filler", "delete_file", path="big.bin")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["output"] == {"path": "big.bin", "deleted": True, "bytes_freed": 100_000}
    assert not (shared / "big.bin").exists()
    written = _invoke(gateway, "filler", "write_file", path="more.txt", content="x")
    assert written.status_code == 200, written.text
    again = _invoke(gateway, "filler", "bash", command="ls")
    assert again.status_code == 200, again.text
    # measured again after the run, never through the link to / (or it would be over)
    assert "workspace_full" not in again.json()["output"]
    assert again.json()["output"]["stdout"].split() == ["everything", "more.txt", "note.txt"]


def test_the_sweep_removes_workspaces_unchanged_for_the_ttl(
    gateway: GatewayProcess, workspaces: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the gateway's")
    for tenant in ("stale", "fresh"):
        made = _invoke(gateway, tenant, "write_file", path="dir/notes.txt", content="notes")
        assert made.status_code == 200, made.text
    stale = workspaces / "stale" / "shared"
    os.symlink(outside, stale / "dir" / "outside")
    then = time.time() - 7200
    for path in [stale / "dir" / "outside", stale / "dir" / "notes.txt", stale / "dir", stale]:
        os.utime(path, (then, then), follow_symlinks=False)

    deadline = time.monotonic() + 10
    while (workspaces / "stale").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (workspaces / "stale").exists()  # the workspace, then its emptied tenant
    assert (outside / "keep.txt").read_text() == "not the gateway's"
    assert (workspaces / "fresh" / "shared" / "dir" / "notes.txt").read_text() == "notes"
    again = _invoke(gateway, "stale", "write_file", path="new.txt", content="back")
    assert again.status_code == 200, again.text
    assert (workspaces / "stale" / "shared" / "new.txt").read_text() == "back"
