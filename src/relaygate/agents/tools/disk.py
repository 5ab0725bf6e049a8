"""Measure and remove workspace trees through directory descriptors, never following a link.

Every directory is opened with O_NOFOLLOW relative to its parent's descriptor, so a
symlink planted by a sandboxed command (or a directory swapped for one mid-walk) is
seen or removed as a link, never entered. Sizes are the apparent sizes (`st_size`)
of regular files, as `du --apparent-size` counts them: a sparse file counts in full.

A walk holds one descriptor per level, so it stops at MAX_DEPTH: `scan` reports a tree
nested deeper as `too_deep`, and `remove_entry` first moves such deep directories up to
the top of the tree it removes, then removes them from there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_DEPTH = 128
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(slots=True)
class TreeUsage:
    bytes: int = 0  # the sum of st_size of the regular files
    entries: int = 0  # files, directories, links and the rest, below the top
    newest: float = 0.0  # the latest st_mtime of the directory and of anything in it
    too_deep: bool = False  # directories nested beyond MAX_DEPTH were not measured


def open_directory(path: Path) -> int:
    """A descriptor of the directory `path`; its last component must not be a link."""
    parent = os.open(path.parent, _DIR_FLAGS)
    try:
        return open_child(parent, path.name)
    finally:
        os.close(parent)


def open_child(parent: int, name: str, *, writable: bool = False) -> int:
    """A descriptor of the subdirectory `name` of `parent`, never through a link.

    A gateway not running as root owns what its sandbox made: a directory the sandbox
    locked (`chmod 000`) is given back to it (u+rwx) first; `writable` also makes sure
    its entries can be removed."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:
        # fchmodat(AT_SYMLINK_NOFOLLOW): refuses a link (ValueError here) instead of following
        with contextlib.suppress(OSError, ValueError, NotImplementedError):
            os.chmod(name, 0o700, dir_fd=parent, follow_symlinks=False)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    if writable and os.geteuid() != 0:
        mode = os.fstat(fd).st_mode
        if mode & 0o700 != 0o700:
            with contextlib.suppress(OSError):
                os.fchmod(fd, stat.S_IMODE(mode) | 0o700)
    return fd


def scan(path: Path) -> TreeUsage | None:
    """The size and last change of the tree at `path`; None when there is no directory."""
    try:
        top = open_directory(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return scan_fd(top)
    finally:
        os.close(top)


def scan_fd(top: int) -> TreeUsage:
    """`scan` of an open directory (left open)."""
    usage = TreeUsage(newest=os.fstat(top).st_mtime)
    stack = [(top, _list(top, usage))]  # (descriptor, subdirectories left to walk)
    try:
        while stack:
            fd, pending = stack[-1]
            if not pending:
                stack.pop()
                if stack:
                    os.close(fd)
                continue
            name = pending.pop()
            if len(stack) >= MAX_DEPTH:
                usage.too_deep = True
                continue
            child = _open_walked(fd, name)
            if child is None:
                continue
            try:
                subdirectories = _list(child, usage)
            except BaseException:
                os.close(child)
                raise
            stack.append((child, subdirectories))
    finally:
        for fd, _ in stack[1:]:
            os.close(fd)
    return usage


def _list(fd: int, usage: TreeUsage) -> list[str]:
    """Add the files of `fd` to `usage`; the names of its subdirectories."""
    subdirectories: list[str] = []
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            usage.newest = max(usage.newest, info.st_mtime)
            usage.entries += 1
            if stat.S_ISREG(info.st_mode):
                usage.bytes += info.st_size
            elif stat.S_ISDIR(info.st_mode):
                subdirectories.append(entry.name)
    return subdirectories


def remove_tree(path: Path) -> int:
    """Remove the directory `path` and everything in it; the bytes of the files removed."""
    try:
        parent = os.open(path.parent, _DIR_FLAGS)
    except FileNotFoundError:
        return 0
    try:
        return remove_entry(parent, path.name)
    finally:
        os.close(parent)


def remove_entry(parent: int, name: str) -> int:
    """Remove `name` from the directory `parent`: a file or a link (the link itself), or a
    directory with everything in it. The bytes of the regular files removed; 0 if absent."""
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(name, dir_fd=parent)
            return info.st_size if stat.S_ISREG(info.st_mode) else 0
        top = open_child(parent, name, writable=True)
    except FileNotFoundError:
        return 0
    try:
        removed = _empty(top)
    finally:
        os.close(top)
    with contextlib.suppress(FileNotFoundError):
        os.rmdir(name, dir_fd=parent)
    return removed


def _empty(top: int) -> int:
    """Remove everything in the directory `top`, depth first, one descriptor per level."""
    removed, subdirectories = _remove_files(top)
    # (descriptor, its name in the directory below it on the stack, subdirectories left)
    stack: list[tuple[int, str, list[str]]] = [(top, "", subdirectories)]
    try:
        while stack:
            fd, name, pending = stack[-1]
            if not pending:
                stack.pop()
                if stack:
                    os.close(fd)
                    with contextlib.suppress(FileNotFoundError):
                        os.rmdir(name, dir_fd=stack[-1][0])
                continue
            child_name = pending.pop()
            if len(stack) >= MAX_DEPTH:  # too deep to hold more descriptors: move it up
                hoisted = f".relaygate-removing-{secrets.token_hex(8)}"
                with contextlib.suppress(FileNotFoundError):
                    os.rename(child_name, hoisted, src_dir_fd=fd, dst_dir_fd=top)
                    stack[0][2].append(hoisted)
                continue
            child = _open_walked(fd, child_name, writable=True)
            if child is None:
                continue
            try:
                files, subdirectories = _remove_files(child)
            except BaseException:
                os.close(child)
                raise
            removed += files
            stack.append((child, child_name, subdirectories))
    finally:
        for fd, _, _ in stack[1:]:
            os.close(fd)
    return removed


def _remove_files(fd: int) -> tuple[int, list[str]]:
    """Unlink every non-directory in `fd`; the bytes removed and the subdirectories' names."""
    removed = 0
    subdirectories: list[str] = []
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    subdirectories.append(entry.name)
                    continue
                os.unlink(entry.name, dir_fd=fd)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                removed += info.st_size
    return removed, subdirectories


def _open_walked(parent: int, name: str, *, writable: bool = False) -> int | None:
    """`open_child`, or None when the entry is gone or is no longer a directory."""
    try:
        return open_child(parent, name, writable=writable)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a symlink since it was listed
            return None
        raise
