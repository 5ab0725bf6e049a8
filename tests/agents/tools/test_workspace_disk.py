"""Measuring, capping and removing workspaces on disk: links are never followed, deep
trees and directories a sandbox locked are still removed, stale workspaces are swept."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from relaygate.agents.tools import disk
from relaygate.agents.tools.cleanup import remove_stale
from relaygate.agents.tools.disk import MAX_DEPTH, remove_tree, scan
from relaygate.agents.tools.errors import ToolFailed
from relaygate.agents.tools.quota import WorkspaceQuota
from relaygate.agents.tools.run_watch import MIN_WALK_GAP
from relaygate.agents.tools.workspace import Workspace

MIB = 1024 * 1024


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "big.bin").write_bytes(b"o" * 50_000)
    (outside / "inner" / "more.bin").write_bytes(b"o" * 50_000)
    return outside


def _backdate(path: Path, seconds: float) -> None:
    """Set the mtime of `path` and everything in it `seconds` back (links themselves)."""
    then = time.time() - seconds
    for folder, directories, files in os.walk(path, topdown=False):
        for name in directories + files:
            os.utime(Path(folder) / name, (then, then), follow_symlinks=False)
    os.utime(path, (then, then), follow_symlinks=False)


def test_scan_counts_regular_files_and_never_follows_links(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    workspace = tmp_path / "ws"
    (workspace / "a" / "b").mkdir(parents=True)
    (workspace / "top.txt").write_bytes(b"x" * 100)
    (workspace / "a" / "b" / "deep.txt").write_bytes(b"y" * 23)
    os.symlink(outside, workspace / "dirlink")
    os.symlink(outside / "big.bin", workspace / "a" / "filelink")
    os.mkfifo(workspace / "pipe")
    usage = scan(workspace)
    assert usage is not None and usage.bytes == 123 and not usage.too_deep
    assert scan(tmp_path / "missing") is None


def test_remove_tree_removes_links_not_their_targets(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    workspace = tmp_path / "ws"
    (workspace / "sub").mkdir(parents=True)
    (workspace / "sub" / "data.bin").write_bytes(b"d" * 10)
    os.symlink(outside, workspace / "sub" / "dirlink")
    os.symlink(outside / "big.bin", workspace / "filelink")
    assert remove_tree(workspace) == 10
    assert not workspace.exists()
    assert (outside / "big.bin").stat().st_size == 50_000
    assert (outside / "inner" / "more.bin").exists()
    assert remove_tree(workspace) == 0  # already gone
    os.symlink(outside, tmp_path / "link-as-workspace")
    remove_tree(tmp_path / "link-as-workspace")  # the link goes, never what it points to
    assert not (tmp_path / "link-as-workspace").is_symlink()
    assert (outside / "big.bin").exists()


def test_trees_deeper_than_the_walk_are_flagged_and_still_removed(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    deepest = workspace.joinpath(*["d"] * (MAX_DEPTH * 2 + 5))
    deepest.mkdir(parents=True)
    (deepest / "bottom.bin").write_bytes(b"b" * 7)
    usage = scan(workspace)
    assert usage is not None and usage.too_deep
    assert remove_tree(workspace) == 7
    assert not workspace.exists()


def test_a_gateway_that_is_not_root_removes_what_its_sandbox_locked() -> None:
    """A sandboxed command owns its files as the gateway's uid and may `chmod 000` them."""
    script = """
import os, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from disk import remove_tree, scan
root = Path(sys.argv[2]) / "ws"
(root / "open" / "locked").mkdir(parents=True)
(root / "open" / "locked" / "data.bin").write_bytes(b"x" * 1000)
(root / "readonly").mkdir()
(root / "readonly" / "kept.txt").write_bytes(b"y" * 10)
os.chmod(root / "open" / "locked", 0)
os.chmod(root / "readonly", 0o500)
print(scan(root).bytes, remove_tree(root), root.exists())
"""
    parent = Path(tempfile.mkdtemp(prefix="relaygate-locked-"))
    try:
        user = 65534 if os.geteuid() == 0 else None  # as root, permissions would not bite
        if user is not None:
            os.chown(parent, user, user)
        # disk.py needs only the standard library: a copy the other uid can read, wherever
        # this checkout lives (a private temporary directory, say)
        code = parent / "code"
        code.mkdir(mode=0o755)
        shutil.copy(disk.__file__, code / "disk.py")
        done = subprocess.run(
            ["/usr/bin/python3", "-c", script, str(code), str(parent)],
            capture_output=True,
            text=True,
            user=user,
            group=user,
            extra_groups=[] if user is not None else None,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["1010", "1010", "False"]
    finally:
        shutil.rmtree(parent)


def test_file_tools_stay_under_the_workspace_cap(tmp_path: Path) -> None:
    quota = WorkspaceQuota(1000, max_files=100)
    workspace = Workspace(tmp_path / "ws", max_file_bytes=10_000, quota=quota)
    workspace.write_text("a.txt", "a" * 600)
    with pytest.raises(ToolFailed, match="over its limit of 1000 bytes") as refused:
        workspace.write_text("new/b.txt", "b" * 500)
    assert refused.value.code == "workspace_full"
    assert sorted(os.listdir(workspace.root)) == ["a.txt"]  # not even its directory
    with pytest.raises(ToolFailed, match="would take this workspace to 1100 bytes"):
        workspace.write_text("a.txt", "a" * 500, append=True)
    workspace.write_text("a.txt", "a" * 900)  # an overwrite counts what it replaces
    workspace.write_text("a.txt", "")  # shrinking always fits
    workspace.write_text("b.txt", "b" * 1000)
    assert workspace.delete("b.txt") == 1000
    workspace.write_text("c.txt", "c" * 1000)
    with pytest.raises(ToolFailed, match="No such file"):
        workspace.delete("b.txt")
    with pytest.raises(ToolFailed, match="names the workspace itself"):
        workspace.delete(".")


def test_a_sandbox_run_over_the_cap_blocks_writing_until_files_are_deleted(
    tmp_path: Path,
) -> None:
    quota = WorkspaceQuota(1000, max_files=100)
    workspace = Workspace(tmp_path / "ws", max_file_bytes=10_000, quota=quota)
    workspace.require_room()
    (workspace.ensure() / "made-by-bash.bin").write_bytes(b"z" * 1500)  # as a sandbox would
    notice = workspace.measure()
    assert notice is not None and "holds 1500 bytes, over its limit of 1000" in notice
    with pytest.raises(ToolFailed, match="bash, python and write_file are refused"):
        workspace.require_room()
    with pytest.raises(ToolFailed, match="holds 1500 bytes"):
        workspace.write_text("small.txt", "s")
    assert workspace.read_text("made-by-bash.bin").startswith("z")  # reading still works
    workspace.delete("made-by-bash.bin")
    workspace.require_room()
    workspace.write_text("small.txt", "s")
    assert workspace.measure() is None


def test_a_workspace_with_too_many_entries_blocks_writing_until_they_are_deleted(
    tmp_path: Path,
) -> None:
    workspace = Workspace(tmp_path / "ws", max_file_bytes=10_000, quota=WorkspaceQuota(1000, 5))
    many = workspace.ensure() / "many"
    many.mkdir()
    for index in range(5):  # six entries with their directory
        (many / f"f{index}").touch()
    notice = workspace.measure()
    assert notice is not None and "holds 6 files and directories, over its limit of 5" in notice
    with pytest.raises(ToolFailed, match="6 files and directories") as refused:
        workspace.require_room()
    assert refused.value.code == "workspace_full"
    with pytest.raises(ToolFailed, match="6 files and directories"):
        workspace.write_text("one-more.txt", "x")
    workspace.delete("many")
    workspace.require_room()
    assert workspace.measure() is None


def test_a_run_watch_sees_the_workspace_go_over_a_cap(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws", max_file_bytes=10_000, quota=WorkspaceQuota(MIB, 50))
    workspace.ensure()
    watch = workspace.run_watch()
    assert watch is not None
    (workspace.root / "small.bin").write_bytes(b"s" * 1000)
    assert watch() is None
    (workspace.root / "big.bin").write_bytes(b"b" * 2 * MIB)  # as a sandboxed run would
    notice = watch()  # right away: the disk in use grew by more than the room left
    assert notice is not None and f"holds {2 * MIB + 1000} bytes, over its limit" in notice
    (workspace.root / "big.bin").unlink()
    for index in range(60):
        (workspace.root / f"f{index}").touch()
    time.sleep(MIN_WALK_GAP)  # not visible on the disk's counters: the next walk sees it
    notice = watch()
    assert notice is not None and "61 files and directories, over its limit of 50" in notice


def test_remove_stale_keeps_fresh_workspaces_and_never_leaves_the_root(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    root = tmp_path / "workspaces"
    stale = root / "acme" / "sess_old"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "notes.txt").write_text("old")
    os.symlink(outside, stale / "sub" / "link")
    busy = root / "acme" / "sess_busy"  # the directory is old, a file in it is not
    busy.mkdir()
    (busy / "fresh.txt").write_text("new")
    gone_tenant = root / "beta" / "shared"
    gone_tenant.mkdir(parents=True)
    os.symlink(outside, root / "linked-tenant")  # a link at the top is never entered
    os.symlink(outside, root / "acme" / "linked-workspace")
    for path in (stale, root / "beta", outside):
        _backdate(path, 7200)
    os.utime(busy, (time.time() - 7200,) * 2)
    removed = remove_stale(root, time.time() - 3600)
    assert sorted(removed) == [root / "acme" / "sess_old", root / "beta" / "shared"]
    assert not stale.exists() and not (root / "beta").exists()  # the emptied tenant goes too
    assert (busy / "fresh.txt").read_text() == "new"
    assert (outside / "big.bin").exists() and (outside / "inner" / "more.bin").exists()
    assert (root / "linked-tenant").is_symlink() and (
        root / "acme" / "linked-workspace"
    ).is_symlink()
    assert remove_stale(tmp_path / "missing", time.time()) == []
