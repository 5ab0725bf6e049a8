"""A session's workspace: the one directory its file tools and sandbox may touch.

Paths are relative, without `..`; every component is opened with O_NOFOLLOW relative
to its parent's descriptor, so a symlink (planted by a sandboxed command, say) can
never lead outside. Sizes are capped both ways, per file and, with a quota, for the
whole workspace (quota.py).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from pathlib import Path, PurePosixPath

from relaygate.agents.tools.disk import remove_entry
from relaygate.agents.tools.errors import ToolFailed
from relaygate.agents.tools.quota import WorkspaceQuota
from relaygate.agents.tools.run_watch import RunWatch

_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO planted in the workspace must not hang the gateway (checked after open).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def safe_segment(name: str) -> str:
    """`name` itself when it is a plain file name, else a digest of it."""
    if _SAFE_NAME.fullmatch(name):
        return name
    return "h-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


def split_relative(path: str) -> list[str]:
    """The components of a workspace-relative path; refuses absolute paths and `..`."""
    if not path or "\x00" in path:
        raise ToolFailed("The path is empty or contains a NUL byte.", param="path")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise ToolFailed(f"The path {path!r} is absolute; give a path inside the workspace.")
    parts = [part for part in pure.parts if part != "."]
    if ".." in parts:
        raise ToolFailed(f"The path {path!r} leaves the workspace ('..' is not allowed).")
    if not parts:
        raise ToolFailed(f"The path {path!r} names the workspace itself, not a file.")
    return parts


class Workspace:
    """One directory on disk, created on first use, owned by the sandbox uid when root."""

    def __init__(
        self,
        root: Path,
        max_file_bytes: int,
        owner_uid: int | None = None,
        quota: WorkspaceQuota | None = None,  # None: no total-size cap
    ) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self.owner_uid = owner_uid
        self.quota = quota

    def ensure(self) -> Path:
        """Create the directory (and parents) if needed; return its path."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o755)
        if self.owner_uid is not None:
            os.chown(self.root, self.owner_uid, self.owner_uid)
        return self.root

    def _open_parent(self, parts: list[str], create: bool) -> int:
        """A descriptor of the directory holding the last component, never through a link."""
        fd = os.open(self.ensure(), _DIR_FLAGS)
        try:
            for part in parts[:-1]:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                        if self.owner_uid is not None:
                            os.chown(part, self.owner_uid, self.owner_uid, dir_fd=fd)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except OSError:
            os.close(fd)
            raise
        return fd

    def read_text(self, path: str) -> str:
        parts = split_relative(path)
        try:
            parent = self._open_parent(parts, create=False)
            try:
                fd = os.open(parts[-1], _READ_FLAGS, dir_fd=parent)
            finally:
                os.close(parent)
        except OSError as exc:
            raise ToolFailed(_explain(path, exc)) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ToolFailed(f"{path!r} is {kind}.")
        with os.fdopen(fd, "rb") as file:
            if info.st_size > self.max_file_bytes:
                raise ToolFailed(
                    f"{path!r} is {info.st_size} bytes; the limit is {self.max_file_bytes}."
                )
            data = file.read(self.max_file_bytes + 1)
        return data.decode("utf-8", "replace")

    def write_text(self, path: str, content: str, *, append: bool = False) -> int:
        """Write (or append) UTF-8 text; returns the file's size afterwards."""
        data = content.encode("utf-8")
        parts = split_relative(path)
        if len(data) > self.max_file_bytes:
            raise ToolFailed(
                f"The content is {len(data)} bytes; the limit is {self.max_file_bytes} per file."
            )
        if self.quota is not None:  # before anything is created or truncated
            growth = len(data) if append else len(data) - self._size_of(parts)
            self.quota.reserve(self.root, path, growth)
        try:
            return self._write(path, parts, data, append)
        except BaseException:
            if self.quota is not None:
                self.quota.forget(self.root)  # what the failed write changed is unknown
            raise

    def _write(self, path: str, parts: list[str], data: bytes, append: bool) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        flags |= os.O_APPEND if append else os.O_TRUNC
        try:
            parent = self._open_parent(parts, create=True)
            try:
                fd = os.open(parts[-1], flags, 0o644, dir_fd=parent)
            finally:
                os.close(parent)
        except OSError as exc:
            raise ToolFailed(_explain(path, exc)) from None
        with os.fdopen(fd, "wb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ToolFailed(f"{path!r} is not a regular file.")
            existing = info.st_size if append else 0
            if existing + len(data) > self.max_file_bytes:
                raise ToolFailed(
                    f"Writing {len(data)} bytes to {path!r} would exceed the limit of "
                    f"{self.max_file_bytes} bytes per file."
                )
            file.write(data)
            if self.owner_uid is not None:
                os.fchown(file.fileno(), self.owner_uid, self.owner_uid)
        return existing + len(data)

    def delete(self, path: str) -> int:
        """Delete a file, a link (not its target) or a directory with everything in it;
        returns the bytes of the files removed."""
        parts = split_relative(path)
        try:
            parent = self._open_parent(parts, create=False)
            try:
                os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
                removed = remove_entry(parent, parts[-1])
            finally:
                os.close(parent)
        except OSError as exc:
            raise ToolFailed(_explain(path, exc)) from None
        finally:
            if self.quota is not None:  # the files and directories it removed: walk again
                self.quota.forget(self.root)
        return removed

    def require_room(self) -> None:
        """Refuse (ToolFailed) while the workspace is over its size or file-count cap."""
        if self.quota is not None:
            self.quota.require_room(self.root)

    def run_watch(self) -> RunWatch | None:
        """The check to make while a sandboxed run writes here (None without a quota)."""
        return RunWatch(self.quota, self.root) if self.quota is not None else None

    def measure(self) -> str | None:
        """Measure the workspace now; a notice for the model when it is over a cap."""
        return self.quota.measure(self.root) if self.quota is not None else None

    def _size_of(self, parts: list[str]) -> int:
        """The size of the regular file at `parts`, 0 if there is none (links not followed)."""
        try:
            parent = self._open_parent(parts, create=False)
        except OSError:
            return 0
        try:
            info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except OSError:
            return 0
        finally:
            os.close(parent)
        return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _explain(path: str, error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return f"No such file in the workspace: {path!r}."
    if error.errno in (errno.ELOOP, errno.ENOTDIR):
        return f"{path!r} goes through a symbolic link or a non-directory; links are not followed."
    if isinstance(error, IsADirectoryError):
        return f"{path!r} is a directory."
    return f"Cannot access {path!r}: {error.strerror}."
