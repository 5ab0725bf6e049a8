"""A sandboxed run is bounded while it runs: one that writes far past the workspace's size
cap, or creates far more files than its file-count cap, is stopped near the cap with a
tool error saying why, and the workspace is usable again once files are deleted. End to
end through a gateway process (`POST /api/tools/{name}/invoke`), the files checked on disk."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from relaygate.agents.tools.disk import scan
from tests.support.servers import GatewayProcess, run_gateway

MIB = 1024 * 1024
CAP = 16 * MIB
MAX_FILES = 300
# How far past the cap a run may get before it is stopped: measured at 1-20 MiB on a
# loaded 2-core machine (docs/tools.md); a run left alone would write 256 MiB here.
OVERSHOOT = 40 * MIB
TENANTS = ["flood", "parallel", "many"]


@pytest.fixture(scope="module")
def workspaces() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="relaygate-run-limits-"))
    root.chmod(0o755)  # the sandbox uid must be able to reach its workspace
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def gateway(workspaces: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    config = {
        "keys": [{"tenant": tenant, "key": f"{tenant}-key-123456"} for tenant in TENANTS],
        "tools": {
            "default_policy": {"mode": "allow_all", "allow": ["bash", "python"]},
            "workspace_root": str(workspaces),
            "workspace_max_bytes": CAP,
            "workspace_max_files": MAX_FILES,
            "sandbox": {"timeout_seconds": 30, "cpu_seconds": 30, "file_size_mb": 4},
        },
    }
    with run_gateway(tmp_path_factory.mktemp("run-limits"), config) as process:
        yield process


def _invoke(gateway: GatewayProcess, tenant: str, tool: str, **arguments: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant}-key-123456"}
    return httpx.post(
        f"{gateway.base_url}/api/tools/{tool}/invoke", json=arguments, headers=headers, timeout=60
    )


def _stopped(response: httpx.Response, tool: str = "bash") -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "tool_error" and error["code"] == "workspace_full"
    message: str = error["message"]
    assert message.startswith(f"The {tool} run was stopped before it ended.")
    return message


def _usable_again(gateway: GatewayProcess, tenant: str, directory: str) -> None:
    """Refused while over the cap, then, with `directory` deleted, bash runs again."""
    refused = _invoke(gateway, tenant, "bash", command="echo refused")
    assert refused.status_code == 400 and "bash, python and write_file are refused" in refused.text
    deleted = _invoke(gateway, tenant, "delete_file", path=directory)
    assert deleted.status_code == 200, deleted.text
    again = _invoke(gateway, tenant, "bash", command="echo ok > after.txt; cat after.txt")
    assert again.status_code == 200, again.text
    assert again.json()["output"] == {"exit_code": 0, "stdout": "ok\n", "stderr": ""}


def test_a_run_writing_far_past_the_cap_is_stopped_near_it(
    gateway: GatewayProcess, workspaces: Path
) -> None:
    shared = workspaces / "flood" / "shared"
    command = "mkdir out; for i in $(seq 64); do head -c 4M /dev/zero > out/f$i; done; echo done"
    message = _stopped(_invoke(gateway, "flood", "bash", command=command))
    assert f"over its limit of {CAP} bytes" in message and "delete_file" in message
    usage = scan(shared)
    assert usage is not None and CAP < usage.bytes < CAP + OVERSHOOT
    _usable_again(gateway, "flood", "out")


def test_parallel_writers_are_all_stopped(gateway: GatewayProcess, workspaces: Path) -> None:
    shared = workspaces / "parallel" / "shared"
    command = (
        "mkdir out; for j in $(seq 8); do "
        "(for i in $(seq 8); do head -c 4M /dev/zero > out/f$j-$i; done) & done; wait"
    )
    _stopped(_invoke(gateway, "parallel", "bash", command=command))
    first = scan(shared)
    assert first is not None and CAP < first.bytes < CAP + OVERSHOOT
    time.sleep(0.5)
    later = scan(shared)
    assert later is not None and later.bytes == first.bytes  # nothing is writing any more
    _usable_again(gateway, "parallel", "out")


def test_a_run_creating_too_many_files_is_stopped(
    gateway: GatewayProcess, workspaces: Path
) -> None:
    code = (
        "import os\nos.mkdir('many')\nfor i in range(100_000):\n    open(f'many/{i}', 'w').close()"
    )
    message = _stopped(_invoke(gateway, "many", "python", code=code), tool="python")
    assert f"files and directories, over its limit of {MAX_FILES}" in message
    usage = scan(workspaces / "many" / "shared")
    assert usage is not None and MAX_FILES < usage.entries < 10 * MAX_FILES
    _usable_again(gateway, "many", "many")
