"""`Sandbox.run(argv, workspace)`: one command under bubblewrap, limited, timed, capped.

The gateway drops to an unprivileged uid before starting bubblewrap when it runs as
root, so the sandboxed process is unprivileged inside and outside its namespaces.

Cleanup is airtight and waited for. The command is the init of its own PID namespace
(`--as-pid-1`): when it exits, the kernel kills everything else in the namespace
(`setsid` children included), and bubblewrap, our child, exits only after reaping it.
When the wall clock runs out, every process below bubblewrap is killed, the namespace's
init first, and bubblewrap is reaped before `run` returns. bubblewrap itself is never
killed first: that would orphan the init to the host's PID 1, which in a container often
never reaps it. Unsandboxed runs (no PID namespace) get the same sweep of the
command's descendants plus its process group, best effort: a child that detached and
whose parent already exited is out of reach without a PID namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

from relaygate.agents.sandbox.command import bwrap_args, drop_privileges_args, limit_args
from relaygate.agents.sandbox.result import SandboxResult
from relaygate.agents.tools.errors import SandboxUnavailable
from relaygate.config import SandboxSettings
from relaygate.observability.logging import get_logger
from relaygate.observability.tracing.current import span

_log = get_logger("relaygate.sandbox")
_CHUNK = 65536
_DRAIN_SECONDS = 2.0
_FREEZE_ROUNDS = 20
_DEATH_SECONDS = 2.0  # how long `_stop` waits for killed processes to be gone
_POLL_SECONDS = 0.01
_REAP_SECONDS = 5.0
_HOST_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
WATCH_SECONDS = 0.005  # the pause between two checks of a run's `watch`

Watch = Callable[[], str | None]  # blocking; a reason to stop the run, or None


class Sandbox:
    """Runs commands in a bubblewrap sandbox; refuses when bubblewrap is missing."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.bwrap = shutil.which("bwrap") if settings.enabled else None
        self.prlimit = shutil.which("prlimit")
        self.setpriv = shutil.which("setpriv")
        self.broken: str | None = None  # why bubblewrap cannot start here (see `probe`)

    @property
    def available(self) -> bool:
        """bubblewrap and prlimit are there (and setpriv, to drop root)."""
        needs_setpriv = self.run_as is not None
        return (
            self.bwrap is not None
            and self.prlimit is not None
            and (self.setpriv is not None or not needs_setpriv)
            and self.broken is None
        )

    @property
    def run_as(self) -> int | None:
        """The uid the sandbox runs as outside its namespace when we are root, else None."""
        return self.settings.uid if os.geteuid() == 0 else None

    def describe(self) -> str:
        if self.available:
            return "bubblewrap"
        if self.settings.allow_unsandboxed:
            return "unsandboxed (allowed by config)"
        return f"broken: {self.broken}" if self.broken else "missing"

    async def probe(self, workspace: Path) -> None:
        """Run `true` in the sandbox once; if bubblewrap cannot start here (user namespaces
        disabled, say), mark it broken so the dangerous tools refuse clearly."""
        if not self.available:
            return
        result = await self.run(["/bin/true"], workspace, wall_seconds=10)
        if result.exit_code != 0:
            self.broken = (result.stderr.strip() or f"exit code {result.exit_code}")[:300]
            _log.warning("bubblewrap cannot start a sandbox here", reason=self.broken)

    async def run(
        self,
        argv: list[str],
        workspace: Path,
        *,
        wall_seconds: float | None = None,
        watch: Watch | None = None,
    ) -> SandboxResult:
        """Run `argv` with `workspace` as its one writable directory. While it runs,
        `watch` is called again and again in a worker thread: the first reason it gives
        stops the run (killed as on the timeout) and lands in the result's `stopped`."""
        if self.available:
            assert self.bwrap is not None and self.prlimit is not None
            command = [
                *self._drop_privileges(),
                *limit_args(self.prlimit, self.settings),
                *bwrap_args(self.bwrap, self.settings, workspace),
            ]
            return await self._execute(
                command + argv, workspace, wall_seconds, watch, sandboxed=True
            )
        if not self.settings.allow_unsandboxed:
            reason = "disabled in config" if not self.settings.enabled else "not installed"
            if self.broken:
                reason = f"unable to start here ({self.broken})"
            raise SandboxUnavailable(
                f"This tool runs only in the sandbox, and bubblewrap is {reason}. Install it "
                "(apt-get install bubblewrap) or set tools.sandbox.allow_unsandboxed."
            )
        _log.warning("running a command WITHOUT a sandbox (tools.sandbox.allow_unsandboxed)")
        prefix = self._drop_privileges()
        if self.prlimit is not None:
            prefix += limit_args(self.prlimit, self.settings)
        return await self._execute(prefix + argv, workspace, wall_seconds, watch, sandboxed=False)

    def _drop_privileges(self) -> list[str]:
        uid = self.run_as
        if uid is None or self.setpriv is None:
            return []
        return drop_privileges_args(self.setpriv, uid)

    async def _execute(
        self,
        command: list[str],
        workspace: Path,
        wall_seconds: float | None,
        watch: Watch | None,
        *,
        sandboxed: bool,
    ) -> SandboxResult:
        with span("relaygate.sandbox.run", {"relaygate.sandbox.sandboxed": sandboxed}) as handle:
            result = await self._spawn(command, workspace, wall_seconds, watch,
                                       sandboxed=sandboxed)
            if handle is not None and result.exit_code is not None:
                handle.set_attribute("process.exit.code", result.exit_code)
            return result

    async def _spawn(
        self,
        command: list[str],
        workspace: Path,
        wall_seconds: float | None,
        watch: Watch | None,
        *,
        sandboxed: bool,
    ) -> SandboxResult:
        limit = wall_seconds if wall_seconds is not None else self.settings.timeout_seconds
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workspace,
            env=dict(_HOST_ENV),
            start_new_session=True,
        )
        assert process.stdout is not None and process.stderr is not None
        out = _Capture(self.settings.output_bytes)
        err = _Capture(self.settings.output_bytes)
        readers = asyncio.gather(out.read(process.stdout), err.read(process.stderr))
        timed_out = False
        stopped: str | None = None
        try:
            stopped = await asyncio.wait_for(_watched(process, watch), limit)
        except TimeoutError:
            timed_out = True
        finally:
            await _stop(process, sandboxed=sandboxed)
        try:  # a child that escaped the group may hold the pipes open: stop waiting for it
            await asyncio.wait_for(readers, _DRAIN_SECONDS)
        except TimeoutError:
            _log.warning("sandbox output still open after the command ended; dropped the rest")
        return SandboxResult(
            exit_code=None if timed_out or stopped else process.returncode,
            stdout=out.text(),
            stderr=err.text(),
            timed_out=timed_out,
            stopped=stopped,
            truncated=out.dropped or err.dropped,
            duration_seconds=round(time.monotonic() - started, 3),
            sandboxed=sandboxed,
        )


async def _watched(process: asyncio.subprocess.Process, watch: Watch | None) -> str | None:
    """Wait for the process to end; with `watch`, call it every WATCH_SECONDS meanwhile
    (it keeps its own checks cheap). The first reason it gives freezes the command's
    processes and ends the wait (the caller kills them)."""
    if watch is None:
        await process.wait()
        return None

    def check() -> str | None:
        reason = watch()
        if reason is not None and process.returncode is None:
            _frozen_tree(process.pid)  # at once: it would write on until the loop kills it
        return reason

    ended = asyncio.ensure_future(process.wait())
    try:
        while not (await asyncio.wait({ended}, timeout=WATCH_SECONDS))[0]:
            reason = await asyncio.to_thread(check)
            if reason is not None and process.returncode is None:
                return reason
        return None
    finally:
        ended.cancel()


class _Capture:
    """Reads a stream to EOF, keeping the first `cap` bytes."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.dropped = False

    async def read(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_CHUNK):
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
            if len(chunk) > room:
                self.dropped = True

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


async def _stop(process: asyncio.subprocess.Process, *, sandboxed: bool) -> None:
    """Kill everything the command left running and reap it before returning.

    While the command runs its whole tree is still below it: freeze that tree (so nothing
    forks past the walk, `setsid` children included) and SIGKILL all of it. Sandboxed,
    bubblewrap (our child) then reaps its init and exits by itself; only if it does not
    is the group killed. Killed processes are waited for until they are gone.
    """
    tree = _frozen_tree(process.pid) if process.returncode is None else []
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if sandboxed and tree:
        try:
            await asyncio.wait_for(process.wait(), _REAP_SECONDS)
        except TimeoutError:
            _log.warning("bubblewrap outlived SIGKILL of its processes; killing it")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
    alive = tree
    for _ in range(int(_DEATH_SECONDS / _POLL_SECONDS)):  # the kernel finishes them off
        alive = [pid for pid in alive if _alive(pid)]
        if not alive:
            break
        await asyncio.sleep(_POLL_SECONDS)
    if alive:
        _log.warning("sandboxed processes still dying after SIGKILL", count=len(alive))


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] not in ("Z", "X")


def _children(pid: int) -> list[int]:
    """The direct children of `pid` (none when it is gone)."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in tasks.read_text().split()]
    return found


def _frozen_tree(pid: int) -> list[int]:
    """Every process below `pid`, each stopped (SIGSTOP) as it is found so none can fork a
    child the walk would miss; rescanned until nothing new appears."""
    frozen: list[int] = []
    for _ in range(_FREEZE_ROUNDS):
        fresh = [child for child in _descendants(pid) if child not in frozen]
        if not fresh:
            break
        for child in fresh:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGSTOP)
        frozen += fresh
    return frozen


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    found: list[int] = []
    pending = _children(pid)
    while pending:
        child = pending.pop(0)
        if child not in found:
            found.append(child)
            pending += _children(child)
    return found
