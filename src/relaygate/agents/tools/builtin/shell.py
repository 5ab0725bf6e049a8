"""bash and python: dangerous, and run only in the sandbox (bubblewrap)."""

from __future__ import annotations

import asyncio
from typing import Any

from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.errors import ToolFailed
from relaygate.agents.tools.quota import FULL
from relaygate.config import SandboxSettings

MAX_SOURCE = 64 * 1024
GRACE_SECONDS = 5.0  # the tool's own timeout is the sandbox's plus this


def _sandboxed_tool(
    sandbox: SandboxSettings, name: str, description: str, field: str, argv: list[str]
) -> Tool:
    """A dangerous tool running `argv + [arguments[field]]` in the sandbox."""

    async def run(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        await asyncio.to_thread(context.workspace.require_room)  # refused while over the cap
        workspace = await asyncio.to_thread(context.workspace.ensure)
        # checked while it runs: a run that takes the workspace over a cap is stopped
        watch = await asyncio.to_thread(context.workspace.run_watch)
        run = await context.sandbox.run([*argv, arguments[field]], workspace, watch=watch)
        if run.stopped is not None:
            raise ToolFailed(
                f"The {name} run was stopped before it ended. {run.stopped}", code=FULL
            )
        result = run.as_dict()
        notice = await asyncio.to_thread(context.workspace.measure)
        if notice is not None:
            result["workspace_full"] = notice
        return result

    return Tool(
        name=name,
        description=description,
        function=run,
        parameters={
            "type": "object",
            "properties": {field: {"type": "string", "minLength": 1, "maxLength": MAX_SOURCE}},
            "required": [field],
            "additionalProperties": False,
        },
        timeout=sandbox.timeout_seconds + GRACE_SECONDS,
        dangerous=True,
        sandboxed=True,
    )


def bash_tool(sandbox: SandboxSettings) -> Tool:
    return _sandboxed_tool(
        sandbox,
        "bash",
        "Run a bash command in an isolated sandbox (no network, only the session's "
        "workspace is writable, limited CPU, memory and time). Returns exit code, stdout, stderr.",
        "command",
        ["/bin/bash", "-c"],
    )


def python_tool(sandbox: SandboxSettings) -> Tool:
    return _sandboxed_tool(
        sandbox,
        "python",
        "Run Python 3 code in an isolated sandbox (no network, only the session's "
        "workspace is writable, limited CPU, memory and time). Print what you want to see.",
        "code",
        ["/usr/bin/python3", "-I", "-c"],
    )
