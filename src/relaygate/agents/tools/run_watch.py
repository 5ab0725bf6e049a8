"""`RunWatch`: the check the sandbox makes every few milliseconds while bash or python
runs in a workspace, so that a run is stopped soon after it takes the workspace over a cap.

A walk of the workspace costs a few microseconds a file, so walks stay rare: one when the
disk in use on the workspace's filesystem (`statvfs`, one system call) has grown by the
room the last walk left under the size cap, and one at least every few walk durations
anyway, for what `statvfs` does not show (sparse files, the number of files, space freed
elsewhere on the same disk meanwhile). Calls block on the disk: make them from a worker
thread.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from relaygate.agents.tools.quota import WorkspaceQuota

MIN_WALK_GAP = 0.05  # seconds between two walks due anyway, at least
WALK_SHARE = 4  # and at least this many times the last walk's duration


class RunWatch:
    """Called again and again during one run: why to stop it, or None."""

    def __init__(self, quota: WorkspaceQuota, root: Path) -> None:
        self.quota = quota
        self.root = root
        self._in_use = _in_use(root)  # taken before the size it is compared with: cautious
        self._room = quota.room(root)
        self._next_walk = time.monotonic() + MIN_WALK_GAP

    def __call__(self) -> str | None:
        grown = _in_use(self.root) - self._in_use
        if grown < self._room and time.monotonic() < self._next_walk:
            return None
        started = time.monotonic()
        self._in_use = _in_use(self.root)
        notice, self._room = self.quota.walk(self.root)
        took = time.monotonic() - started
        self._next_walk = time.monotonic() + max(MIN_WALK_GAP, WALK_SHARE * took)
        return notice


def _in_use(root: Path) -> int:
    """Bytes in use on the filesystem holding `root` (0 when it cannot be told)."""
    try:
        info = os.statvfs(root)
    except OSError:
        return 0
    return (info.f_blocks - info.f_bfree) * info.f_frsize
