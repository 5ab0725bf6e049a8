"""The guard step of a gateway, built from its settings (only when a guard is configured)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from relaygate.config import ConfigError, Settings
from relaygate.guardrails.metrics import GuardMetrics
from relaygate.guardrails.policy import Guardrails
from relaygate.guardrails.step import GuardStep


def guardrails_of(settings: Settings) -> Guardrails:
    """The configured guards (ConfigError naming a guard whose function cannot load)."""
    try:
        return Guardrails.build(settings.guardrails, settings.guardrail_policy)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def guard_step(settings: Settings, registry: CollectorRegistry | None) -> GuardStep:
    return GuardStep(guardrails_of(settings), GuardMetrics(registry))
