"""A gateway whose named agents are used without A2A never imports the a2a-sdk: runs,
delegation and the mailbox work in a fresh interpreter with no `a2a` module loaded; the
first A2A use (a mailbox hand-off to a task) loads it, and works. The gateway is closed
with that task still running, and the process exits (the SDK's tasks close with it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, sys
from tests.support.in_process import in_process

USER = {"Authorization": "Bearer sk-user-key-for-a2a-on-demand"}

def loaded() -> list[str]:
    return sorted(name for name in sys.modules if name == "a2a" or name.startswith("a2a."))

async def main() -> None:
    config = {
        "storage": {"database_url": "sqlite+aiosqlite:///gw.db"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}],
        "keys": [{"key": USER["Authorization"][7:], "tenant": "team-a"}],
        "agents": {"lead": {"model": "mock", "tools": ["agent:helper"]},
                   "helper": {"model": "mock"}},
    }
    async with in_process(config) as gw:
        run = await gw.client.post("/v1/agents/lead/runs", headers=USER,
                                   json={"input": "ask agent_helper"})
        assert run.status_code == 200 and len(run.json()["children"]) == 1, run.text
        sent = await gw.client.post("/v1/agents/messages", headers=USER, json={
            "from_agent": "alice", "to_agent": "bob", "content": "hi"})
        assert sent.status_code == 201, sent.text
        print("BEFORE", loaded())
        handed = await gw.client.post("/v1/agents/messages", headers=USER, json={
            "from_agent": "alice", "to_agent": "helper", "content": "What is 3 + 4?",
            "a2a": True})
        assert handed.status_code == 201 and handed.json()["task"]["id"], handed.text
        print("AFTER", "a2a.server" in sys.modules, "relaygate.a2a.server" in sys.modules)

asyncio.run(main())
"""


def test_named_agents_without_a2a_never_import_the_sdk(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split(" ", 1)[0]: line for line in done.stdout.splitlines()}
    assert lines["BEFORE"] == "BEFORE []"
    assert lines["AFTER"] == "AFTER True True"  # the first A2A use loaded it
