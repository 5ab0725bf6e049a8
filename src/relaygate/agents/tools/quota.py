"""`WorkspaceQuota`: the caps of every workspace, its total size (`tools.workspace_max_bytes`)
and its number of entries (`tools.workspace_max_files`).

The size of a workspace is the sum of its regular files' `st_size` (see disk.py), its
entries everything in it (files, directories, links). Both are measured by walking the
directory the first time they are needed, while a sandboxed run goes on and after it,
and when they are unknown; between walks the cached size moves by what the file tools
write. The file tools are refused a write that would take a workspace over
the size cap; a sandboxed run is stopped as soon as a walk finds it over a cap, and
every writing tool is then refused until files are deleted.
Methods block on the disk: call them from a worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from relaygate.agents.tools.disk import MAX_DEPTH, TreeUsage, scan
from relaygate.agents.tools.errors import ToolFailed

FULL = "workspace_full"  # the error code of a refused write
_DELETE_HINT = "Delete files you no longer need with delete_file"


@dataclass(slots=True)
class _Measured:
    bytes: int
    entries: int = 0
    too_deep: bool = False


class WorkspaceQuota:
    """The caps, and the last known size of each workspace (thread-safe)."""

    def __init__(self, max_bytes: int, max_files: int) -> None:
        self.max_bytes = max_bytes
        self.max_files = max_files
        self._sizes: dict[Path, _Measured] = {}  # the last known size per workspace path
        self._lock = threading.Lock()

    def measure(self, root: Path) -> str | None:
        """Walk the workspace now; a notice for the model when it is over a cap."""
        return self.walk(root)[0]

    def walk(self, root: Path) -> tuple[str | None, int]:
        """`measure`, and the bytes then left under the size cap."""
        try:
            measured = self._scan(root)
        except ToolFailed as failed:
            return failed.message, 0
        if not self._fits(measured, 0):
            return self._refusal(measured), 0
        return None, self.max_bytes - measured.bytes

    def room(self, root: Path) -> int:
        """The bytes left under the size cap by the last known size (0 when over a cap)."""
        measured = self._known(root)
        return self.max_bytes - measured.bytes if self._fits(measured, 0) else 0

    def require_room(self, root: Path) -> None:
        """Refuse (ToolFailed) while the workspace is over a cap: for bash and python."""
        measured = self._known(root)
        if not self._fits(measured, 0):
            raise ToolFailed(self._refusal(measured), code=FULL)

    def reserve(self, root: Path, path: str, growth: int) -> None:
        """Count a write that grows the workspace by `growth` bytes, or refuse it (ToolFailed)
        when that would take the workspace over the cap. A write that shrinks it always fits."""
        measured = self._known(root)
        with self._lock:
            if growth > 0 and not self._fits(measured, growth):
                if self._fits(measured, 0):
                    raise ToolFailed(
                        f"Writing to {path!r} would take this workspace to "
                        f"{measured.bytes + growth} bytes, over its limit of {self.max_bytes} "
                        f"bytes (it holds {measured.bytes}). {_DELETE_HINT}, or write less.",
                        code=FULL,
                    )
                raise ToolFailed(f"{self._over(measured)} Then write again.", code=FULL)
            measured.bytes = max(0, measured.bytes + growth)

    def forget(self, root: Path) -> None:
        """Drop the cached size: the next check walks the workspace again."""
        with self._lock:
            self._sizes.pop(root, None)

    def _known(self, root: Path) -> _Measured:
        with self._lock:
            measured = self._sizes.get(root)
        return measured if measured is not None else self._scan(root)

    def _scan(self, root: Path) -> _Measured:
        try:
            usage = scan(root) or TreeUsage()
        except OSError as exc:
            raise ToolFailed(
                f"The workspace cannot be measured ({exc.strerror}), so its size limit cannot "
                "be checked: bash, python and write_file are refused. Delete what cannot be "
                "listed with delete_file.",
                code=FULL,
            ) from None
        measured = _Measured(usage.bytes, usage.entries, usage.too_deep)
        with self._lock:
            self._sizes[root] = measured
        return measured

    def _fits(self, measured: _Measured, growth: int) -> bool:
        return (
            not measured.too_deep
            and measured.bytes + growth <= self.max_bytes
            and measured.entries <= self.max_files
        )

    def _over(self, measured: _Measured) -> str:
        if measured.too_deep:
            return (
                f"This workspace has directories nested more than {MAX_DEPTH} levels deep, "
                f"so its size cannot be checked against its limit of {self.max_bytes} bytes. "
                f"{_DELETE_HINT} to remove them."
            )
        if measured.entries > self.max_files:
            return (
                f"This workspace holds {measured.entries} files and directories, over its "
                f"limit of {self.max_files}. {_DELETE_HINT} (a directory goes with everything "
                "in it) to bring it under the limit."
            )
        return (
            f"This workspace holds {measured.bytes} bytes, over its limit of {self.max_bytes} "
            f"bytes. {_DELETE_HINT} to bring it under the limit."
        )

    def _refusal(self, measured: _Measured) -> str:
        return (
            f"{self._over(measured)} Until then bash, python and write_file are refused; "
            "read_file and delete_file still work."
        )
