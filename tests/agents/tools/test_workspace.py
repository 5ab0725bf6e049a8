"""read_file / write_file stay inside the workspace: no '..', no symlink escape, size limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relaygate.agents.tools.errors import ToolFailed
from relaygate.agents.tools.workspace import Workspace, safe_segment


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", max_file_bytes=100)


def test_write_then_read_inside(workspace: Workspace) -> None:
    assert workspace.write_text("notes/today.txt", "hello") == 5
    assert workspace.write_text("notes/today.txt", " world", append=True) == 11
    assert workspace.read_text("./notes/today.txt") == "hello world"
    assert (workspace.root / "notes" / "today.txt").read_text() == "hello world"


@pytest.mark.parametrize(
    "path", ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "", "a\x00b"]
)
def test_paths_leaving_the_workspace_are_refused(workspace: Workspace, path: str) -> None:
    with pytest.raises(ToolFailed):
        workspace.write_text(path, "x")
    with pytest.raises(ToolFailed):
        workspace.read_text(path)
    assert not (workspace.root.parent / "outside.txt").exists()


def test_symlinks_are_never_followed(workspace: Workspace, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    root = workspace.ensure()
    os.symlink(secret, root / "link.txt")
    os.symlink(tmp_path, root / "dirlink")
    with pytest.raises(ToolFailed, match="symbolic link"):
        workspace.read_text("link.txt")
    with pytest.raises(ToolFailed, match="symbolic link"):
        workspace.read_text("dirlink/secret.txt")
    with pytest.raises(ToolFailed, match="symbolic link"):
        workspace.write_text("link.txt", "overwritten")
    with pytest.raises(ToolFailed, match="symbolic link"):
        workspace.write_text("dirlink/new.txt", "planted")
    assert secret.read_text() == "top secret"
    assert not (tmp_path / "new.txt").exists()


def test_size_limits(workspace: Workspace) -> None:
    with pytest.raises(ToolFailed, match="limit"):
        workspace.write_text("big.txt", "x" * 101)
    workspace.write_text("grow.txt", "x" * 60)
    with pytest.raises(ToolFailed, match="limit"):
        workspace.write_text("grow.txt", "y" * 60, append=True)
    assert workspace.read_text("grow.txt") == "x" * 60
    (workspace.root / "huge.txt").write_text("z" * 500)
    with pytest.raises(ToolFailed, match="limit"):
        workspace.read_text("huge.txt")


def test_missing_file_and_tenant_names() -> None:
    assert safe_segment("acme") == "acme"
    assert safe_segment("../etc").startswith("h-")
    assert safe_segment("a/b") != safe_segment("a_b")


def test_reading_a_missing_file(workspace: Workspace) -> None:
    with pytest.raises(ToolFailed, match="No such file"):
        workspace.read_text("nothing.txt")


def test_fifos_and_directories_are_not_files(workspace: Workspace) -> None:
    root = workspace.ensure()
    os.mkfifo(root / "pipe")
    (root / "folder").mkdir()
    with pytest.raises(ToolFailed, match="not a regular file"):
        workspace.read_text("pipe")
    with pytest.raises(ToolFailed):
        workspace.write_text("pipe", "x")
    with pytest.raises(ToolFailed, match="directory"):
        workspace.read_text("folder")
