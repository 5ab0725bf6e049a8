"""Removing workspaces: those no longer changed for `tools.workspace_ttl_seconds`, swept
every `tools.workspace_sweep_interval_seconds` (`agents/sweeper.py`, started and stopped
with the tool service).

Workspaces live at `<root>/<tenant>/<session or "shared">`. Only directories at those two
levels are considered, each opened without following links (disk.py); anything else in
the root is left alone.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from relaygate.agents.tools.disk import open_child, open_directory, remove_entry, scan_fd
from relaygate.observability.logging import get_logger

_log = get_logger("relaygate.tools")


def remove_stale(root: Path, cutoff: float) -> list[Path]:
    """Remove every workspace under `root` in which nothing changed since `cutoff` (a Unix
    time), then the tenant directories left empty; the paths of the workspaces removed."""
    try:
        root_fd = open_directory(root)
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed: list[Path] = []
    try:
        for tenant in _subdirectories(root_fd):
            try:
                removed += _remove_stale_in(root_fd, tenant, root / tenant, cutoff)
            except OSError as exc:
                _log.warning("workspace sweep skipped a tenant", tenant=tenant, error=str(exc))
    finally:
        os.close(root_fd)
    return removed


def _remove_stale_in(root_fd: int, tenant: str, path: Path, cutoff: float) -> list[Path]:
    removed: list[Path] = []
    tenant_fd = open_child(root_fd, tenant)
    try:
        for name in _subdirectories(tenant_fd):
            try:
                if _is_stale(tenant_fd, name, cutoff):
                    remove_entry(tenant_fd, name)
                    removed.append(path / name)
            except OSError as exc:
                _log.warning(
                    "workspace sweep skipped a workspace", path=str(path / name), error=str(exc)
                )
        stale_itself = os.fstat(tenant_fd).st_mtime < cutoff
    finally:
        os.close(tenant_fd)
    if removed or stale_itself:
        try:
            os.rmdir(tenant, dir_fd=root_fd)  # only when empty: a new workspace stays
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise
    return removed


def _is_stale(parent: int, name: str, cutoff: float) -> bool:
    """Whether nothing in the workspace `name` changed since `cutoff` (a cheap look at the
    directory itself first: a directory changed since is not walked)."""
    if os.stat(name, dir_fd=parent, follow_symlinks=False).st_mtime >= cutoff:
        return False
    fd = open_child(parent, name)
    try:
        usage = scan_fd(fd)
    finally:
        os.close(fd)
    return usage.newest < cutoff


def _subdirectories(fd: int) -> list[str]:
    with os.scandir(fd) as entries:
        return [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
