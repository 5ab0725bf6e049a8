"""The bubblewrap and prlimit command lines: pure functions of the settings."""

from __future__ import annotations

import os
from pathlib import Path

from relaygate.config import SandboxSettings

WORKSPACE = "/workspace"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
# Read-only files from /etc that programs commonly need; nothing with secrets.
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/mime.types")
TOP_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
MIB = 1024 * 1024


def drop_privileges_args(setpriv: str, uid: int) -> list[str]:
    """`setpriv` switching to `uid` (no groups, no new privileges) before bubblewrap starts."""
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--",
    ]


def limit_args(prlimit: str, settings: SandboxSettings) -> list[str]:
    """`prlimit` setting CPU time, address space, file size, open files and processes."""
    return [
        prlimit,
        f"--cpu={settings.cpu_seconds}",
        f"--as={settings.memory_mb * MIB}",
        f"--fsize={settings.file_size_mb * MIB}",
        f"--nofile={settings.open_files}",
        f"--nproc={settings.processes}",
        "--core=0",
        "--",
    ]


def _system_binds() -> list[str]:
    """Read-only /usr, the top-level links into it (merged /usr) or real dirs, a few /etc files."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in TOP_DIRS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def bwrap_args(bwrap: str, settings: SandboxSettings, workspace: Path) -> list[str]:
    """Every namespace unshared (no network), no capabilities, an unprivileged uid.

    `--as-pid-1`: the command itself is the PID namespace's init, and bubblewrap's
    monitor exits only after reaping it, which the kernel allows only once every other
    process in the namespace is gone. (With bubblewrap's own init, the monitor exits as
    soon as the command does and leaves that init to the host's PID 1 to reap.)
    """
    return [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--as-pid-1",
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        "--uid",
        str(settings.uid),
        "--gid",
        str(settings.uid),
        "--hostname",
        "sandbox",
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(settings.tmp_size_mb * MIB),
        "--tmpfs",
        "/tmp",
        "--bind",
        str(workspace),
        WORKSPACE,
        "--remount-ro",
        "/",
        "--chdir",
        WORKSPACE,
        "--clearenv",
        "--setenv",
        "PATH",
        SANDBOX_PATH,
        "--setenv",
        "HOME",
        WORKSPACE,
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--",
    ]
