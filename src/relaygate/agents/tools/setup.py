"""Build the tool service at start-up: built-ins, custom tools, backends, MCP imports."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry

from relaygate.agents.mcp.on_demand import load_imports
from relaygate.agents.sandbox.runner import Sandbox
from relaygate.agents.tools.builtin import builtin_tools
from relaygate.agents.tools.builtin.backends import DemoSearch, DemoWeather
from relaygate.agents.tools.loader import load_object, load_tool
from relaygate.agents.tools.metrics import ToolMetrics
from relaygate.agents.tools.registry import ToolRegistry
from relaygate.agents.tools.service import ToolService
from relaygate.config import ToolsSettings
from relaygate.observability.logging import get_logger
from relaygate.pipeline.auth import Principal

_log = get_logger("relaygate.tools")
PROBE_TENANT = "_relaygate"  # the start-up sandbox check runs in this tenant's workspace


def _backend(reference: str | None, demo: Any) -> Any:
    if reference is None:
        return demo
    return load_object(reference)()


def build_registry(settings: ToolsSettings) -> ToolRegistry:
    registry = ToolRegistry()
    weather = _backend(settings.weather_backend, DemoWeather())
    search = _backend(settings.search_backend, DemoSearch())
    for tool in builtin_tools(settings, weather, search):
        registry.register(tool)
    for reference in settings.custom:
        tool = load_tool(reference)
        tool.source = f"custom:{reference}"
        registry.register(tool)
    return registry


async def start_tools(settings: ToolsSettings, metrics_registry: CollectorRegistry) -> ToolService:
    """The ready tool service: the sandbox checked, MCP servers imported (or retried)."""
    sandbox = Sandbox(settings.sandbox)
    registry = build_registry(settings)
    service = ToolService(settings, registry, sandbox, ToolMetrics(metrics_registry))
    try:
        probe_workspace = await asyncio.to_thread(service.workspace(Principal(PROBE_TENANT)).ensure)
    except OSError as exc:
        sandbox.broken = (
            f"cannot create the workspace root {service.workspace_root}: {exc.strerror}"
        )
    else:
        await sandbox.probe(probe_workspace)
    if not sandbox.available:
        if settings.sandbox.allow_unsandboxed:
            _log.warning(
                "bubblewrap is not available: bash/python will run WITHOUT a sandbox "
                "(tools.sandbox.allow_unsandboxed is set)"
            )
        else:
            _log.warning("bubblewrap is not available: bash and python will refuse to run")
    service.start()
    service.imports = load_imports(registry, settings.mcp_servers)
    if service.imports is not None:
        await service.imports.start()
    _log.info("tools ready", count=len(registry), sandbox=sandbox.describe())
    return service
