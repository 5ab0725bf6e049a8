"""What a sandboxed run produced, and how it ended."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class SandboxResult:
    exit_code: int | None  # None when killed (the wall-clock timeout, or stopped)
    stdout: str
    stderr: str
    timed_out: bool = False
    stopped: str | None = None  # why `watch` stopped the run before it ended
    truncated: bool = False  # output beyond the cap was dropped
    duration_seconds: float = 0.0
    sandboxed: bool = True

    @property
    def signal_name(self) -> str | None:
        """`SIGKILL`, `SIGXCPU`… when the process died of a signal."""
        if self.exit_code is None or self.exit_code >= 0:
            return None
        try:
            return signal.Signals(-self.exit_code).name
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "exit_code": self.exit_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
        }
        if self.timed_out:
            data["timed_out"] = True
        if self.stopped:
            data["stopped"] = self.stopped
        if self.signal_name:
            data["signal"] = self.signal_name
        if self.truncated:
            data["truncated"] = True
        if not self.sandboxed:
            data["sandboxed"] = False
        return data
