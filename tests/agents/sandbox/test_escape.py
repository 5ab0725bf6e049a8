"""Try to escape the sandbox: every attempt must be contained and reported.

These run real bubblewrap (installed by scripts/system-deps.sh) with short limits.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from relaygate.agents.sandbox.result import SandboxResult
from relaygate.agents.sandbox.runner import Sandbox
from relaygate.agents.tools.errors import SandboxUnavailable
from relaygate.agents.tools.workspace import Workspace
from relaygate.config import SandboxSettings

# A uid of its own, so other sandboxes on the host (and zombies an earlier buggy run left
# to a non-reaping PID 1) never count as this suite's processes.
SETTINGS = SandboxSettings(
    uid=64771,
    timeout_seconds=4.0,
    cpu_seconds=2,
    memory_mb=256,
    file_size_mb=1,
    open_files=32,
    processes=32,
    tmp_size_mb=4,
    output_bytes=4096,
)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    box = Sandbox(SETTINGS)
    assert box.available, "bubblewrap is missing: run scripts/system-deps.sh"
    return box


@pytest.fixture
def workspace(sandbox: Sandbox) -> Iterator[Path]:
    # Not under pytest's tmp dir (mode 0700): the sandbox uid must be able to reach it.
    parent = Path(tempfile.mkdtemp(prefix="relaygate-sandbox-test-"))
    parent.chmod(0o755)
    try:
        yield Workspace(parent / "ws", 1024, sandbox.run_as).ensure()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _sandbox_processes() -> int:
    """Live processes of the sandbox uid on the host. Zombies do not count: they are
    dead, only waiting for init to reap them (which a container's init may do late)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid != SETTINGS.uid:
                    continue
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if state not in ("Z", "X"):
                count += 1
    return count


def _run(
    sandbox: Sandbox, argv: list[str], workspace: Path, wall_seconds: float | None = None
) -> SandboxResult:
    return asyncio.run(sandbox.run(argv, workspace, wall_seconds=wall_seconds))


def _bash(
    sandbox: Sandbox, workspace: Path, script: str, wall_seconds: float | None = None
) -> SandboxResult:
    return _run(sandbox, ["/bin/bash", "-c", script], workspace, wall_seconds)


def test_runs_unprivileged_with_a_clean_environment(sandbox: Sandbox, workspace: Path) -> None:
    os.environ["RELAYGATE_TEST_SECRET"] = "s3cret"
    try:
        result = _bash(sandbox, workspace, "id -u; id -g; env; echo made > here.txt")
    finally:
        del os.environ["RELAYGATE_TEST_SECRET"]
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [str(SETTINGS.uid)] * 2
    assert "s3cret" not in result.stdout
    assert "PATH=/usr/local/bin:/usr/bin:/bin" in lines
    assert (workspace / "here.txt").read_text() == "made\n"


def test_no_network(sandbox: Sandbox, workspace: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        code = (
            "import socket\n"
            "for host, port in [('1.1.1.1', 80), ('127.0.0.1', PORT)]:\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=2)\n"
            "        print('CONNECTED', host)\n"
            "    except OSError as exc:\n"
            "        print('blocked', host, exc.errno)\n"
        ).replace("PORT", str(port))
        result = _run(sandbox, ["/usr/bin/python3", "-c", code], workspace)
    finally:
        listener.close()
    assert "CONNECTED" not in result.stdout
    assert result.stdout.count("blocked") == 2


def test_cannot_write_outside_the_workspace(sandbox: Sandbox, workspace: Path) -> None:
    outside = workspace.parent / "escaped.txt"
    script = (
        f"echo x > {outside}; echo x > /usr/evil; echo x > /etc/evil; echo x > /evil; "
        "echo x > ../evil; touch /tmp/ok && echo tmp-ok"
    )
    result = _bash(sandbox, workspace, script)
    assert "tmp-ok" in result.stdout  # a private, size-limited /tmp
    assert "Read-only file system" in result.stderr or "No such file" in result.stderr
    assert not outside.exists()
    assert not Path("/usr/evil").exists() and not Path("/etc/evil").exists()
    assert not (workspace.parent / "evil").exists()


def test_host_secrets_are_invisible(sandbox: Sandbox, workspace: Path) -> None:
    result = _bash(sandbox, workspace, "cat /etc/shadow; ls /root; ls /work; ls /home")
    assert result.exit_code != 0
    assert "root:" not in result.stdout
    assert result.stderr.count("No such file or directory") >= 3


def test_cannot_remount_or_gain_capabilities(sandbox: Sandbox, workspace: Path) -> None:
    script = (
        "mount -o remount,rw /usr; echo remount=$?; "
        "mount -t tmpfs none /mnt 2>&1; echo mount=$?; "
        "unshare -U true; echo unshare=$?; "
        "grep CapEff /proc/self/status; touch /usr/after-remount"
    )
    result = _bash(sandbox, workspace, script)
    assert "remount=0" not in result.stdout
    assert "mount=0" not in result.stdout
    assert "unshare=0" not in result.stdout
    assert "CapEff:\t0000000000000000" in result.stdout
    assert not Path("/usr/after-remount").exists()


def test_fork_bomb_is_contained(sandbox: Sandbox, workspace: Path) -> None:
    started = time.monotonic()
    result = _bash(sandbox, workspace, "bomb() { bomb | bomb & }; bomb; sleep 1; echo alive")
    assert time.monotonic() - started < SETTINGS.timeout_seconds + 3
    assert (
        "retry: Resource temporarily unavailable" in result.stderr
        or result.timed_out
        or ("fork" in result.stderr)
    )
    assert _sandbox_processes() == 0


def test_memory_limit(sandbox: Sandbox, workspace: Path) -> None:
    code = "b = bytearray(4 * 1024 ** 3)\nprint('allocated', len(b))"
    result = _run(sandbox, ["/usr/bin/python3", "-c", code], workspace)
    assert result.exit_code != 0
    assert "allocated" not in result.stdout
    assert "MemoryError" in result.stderr


def test_spinning_forever_hits_the_wall_clock(sandbox: Sandbox, workspace: Path) -> None:
    started = time.monotonic()
    result = _bash(sandbox, workspace, "sleep 100 & while true; do :; done", wall_seconds=1.0)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 4
    assert result.as_dict()["timed_out"] is True
    assert _sandbox_processes() == 0


def test_cpu_limit(sandbox: Sandbox, workspace: Path) -> None:
    one_second = Sandbox(SETTINGS.model_copy(update={"cpu_seconds": 1}))
    result = _run(one_second, ["/usr/bin/python3", "-c", "while True: pass"], workspace, 8)
    assert not result.timed_out
    assert result.exit_code != 0  # SIGXCPU, then SIGKILL at the hard limit


def test_setsid_child_left_behind_is_killed(sandbox: Sandbox, workspace: Path) -> None:
    script = (
        "setsid sh -c 'sleep 1; echo escaped > /workspace/late.txt' >/dev/null 2>&1 & echo started"
    )
    result = _bash(sandbox, workspace, script)
    assert result.stdout.strip() == "started"
    time.sleep(1.6)
    assert not (workspace / "late.txt").exists()
    assert _sandbox_processes() == 0


def test_output_and_file_size_are_capped(sandbox: Sandbox, workspace: Path) -> None:
    result = _bash(
        sandbox,
        workspace,
        "head -c 100000 /dev/zero | tr '\\0' 'a'; head -c 3000000 /dev/zero > big",
    )
    assert result.truncated and len(result.stdout) == SETTINGS.output_bytes
    assert (workspace / "big").stat().st_size <= SETTINGS.file_size_mb * 1024 * 1024


def test_a_watch_stops_the_run_and_everything_it_started(sandbox: Sandbox, workspace: Path) -> None:
    def watch() -> str | None:
        return "it wrote the flag" if (workspace / "flag").exists() else None

    script = "setsid sleep 30 & sleep 30 & echo >> log; touch flag; while :; do echo . >> log; done"
    started = time.monotonic()
    result = asyncio.run(sandbox.run(["/bin/bash", "-c", script], workspace, watch=watch))
    assert result.stopped == "it wrote the flag"
    assert result.exit_code is None and not result.timed_out
    assert result.as_dict()["stopped"] == "it wrote the flag"
    assert time.monotonic() - started < SETTINGS.timeout_seconds / 2
    assert _sandbox_processes() == 0
    size = (workspace / "log").stat().st_size
    time.sleep(0.3)
    assert (workspace / "log").stat().st_size == size  # nothing writes any more


def test_refuses_without_bubblewrap(workspace: Path) -> None:
    disabled = Sandbox(SETTINGS.model_copy(update={"enabled": False}))
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        _run(disabled, ["/bin/true"], workspace)
    allowed = Sandbox(SETTINGS.model_copy(update={"enabled": False, "allow_unsandboxed": True}))
    result = _run(allowed, ["/bin/sh", "-c", "echo unsandboxed"], workspace)
    assert result.stdout == "unsandboxed\n" and result.as_dict()["sandboxed"] is False


def test_unsandboxed_runs_leave_nothing_behind(workspace: Path) -> None:
    allowed = Sandbox(SETTINGS.model_copy(update={"enabled": False, "allow_unsandboxed": True}))
    script = "setsid sleep 30 & sleep 30 & sleep 30"  # detached and not, still running
    spinning = _run(allowed, ["/bin/sh", "-c", script], workspace, 0.5)
    assert spinning.timed_out
    if allowed.run_as is not None:  # root drops to the sandbox uid: count what is left
        assert _sandbox_processes() == 0


def test_probe_marks_a_sandbox_that_cannot_start(tmp_path: Path) -> None:
    hidden = tmp_path / "private"  # pytest's tmp dirs are 0700: the sandbox uid cannot enter
    hidden.mkdir(mode=0o700)
    box = Sandbox(SETTINGS)
    asyncio.run(box.probe(hidden))
    if box.run_as is None:  # not root: the directory is our own, the sandbox starts
        assert box.available
        return
    assert not box.available and box.broken and "Permission denied" in box.broken
    with pytest.raises(SandboxUnavailable, match="unable to start here"):
        _run(box, ["/bin/true"], hidden)
