"""Build a tool service and a mock-model registry for loop tests (real code, no mocks)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from relaygate.agents.sandbox.runner import Sandbox
from relaygate.agents.tools.metrics import ToolMetrics
from relaygate.agents.tools.service import ToolService
from relaygate.agents.tools.setup import build_registry
from relaygate.config import ToolsSettings, default_settings
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry


def tool_service(settings: ToolsSettings | None = None) -> ToolService:
    settings = settings or ToolsSettings()
    return ToolService(
        settings,
        build_registry(settings),
        Sandbox(settings.sandbox),
        ToolMetrics(CollectorRegistry()),
    )


def mock_models() -> ModelRegistry:
    settings = default_settings()
    return ModelRegistry(settings, build_providers(settings.providers))
