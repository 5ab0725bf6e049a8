"""The tools the gateway knows, by name; a tenant's imported MCP tools only for that tenant."""

from __future__ import annotations

import re

from relaygate.agents.tools.base import Tool
from relaygate.agents.tools.validation import check_schema

TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[tuple[str | None, str], Tool] = {}

    def register(self, tool: Tool, *, replace: bool = False) -> None:
        if not TOOL_NAME.fullmatch(tool.name):
            raise ValueError(f"tool name {tool.name!r} must match [A-Za-z0-9_-]{{1,64}}")
        check_schema(tool.name, tool.parameters)
        key = (tool.tenant, tool.name)
        if key in self._tools and not replace:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[key] = tool

    def unregister_source(self, source: str, tenant: str | None) -> None:
        """Drop every tool that came from `source` for `tenant` (before re-importing it)."""
        for key, tool in list(self._tools.items()):
            if tool.source == source and tool.tenant == tenant:
                del self._tools[key]

    def get(self, name: str, tenant: str | None = None) -> Tool | None:
        """The tenant's own tool of that name, else the shared one."""
        if tenant is not None and (tenant, name) in self._tools:
            return self._tools[(tenant, name)]
        return self._tools.get((None, name))

    def for_tenant(self, tenant: str) -> list[Tool]:
        """Shared tools plus the tenant's own, sorted by name (own ones win on a clash)."""
        chosen: dict[str, Tool] = {}
        for (owner, name), tool in self._tools.items():
            if owner is None and name not in chosen:
                chosen[name] = tool
            elif owner == tenant:
                chosen[name] = tool
        return [chosen[name] for name in sorted(chosen)]

    def __len__(self) -> int:
        return len(self._tools)
