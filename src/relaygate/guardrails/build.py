"""The guard step of a gateway, built from its settings (only when a guard is configured)."""

from __future__ import annotations

from prometheus_client import Counter

from relaygate.config import ConfigError, Settings
from relaygate.guardrails.metrics import GuardMetrics
from relaygate.guardrails.policy import Guardrails
from relaygate.guardrails.settings import GuardType
from relaygate.guardrails.step import GuardStep


def guardrails_of(settings: Settings) -> Guardrails:
    """The configured guards (ConfigError naming a guard whose function cannot load)."""
    try:
        return Guardrails.build(settings.guardrails, settings.guardrail_policy)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


# Loads what the detectors load on first use (libphonenumber's region metadata, compiled
# patterns) at start-up, before the server freezes its start-up objects out of the GC's sight.
_WARM_UP = ("call +1 415 555 2671 or +44 20 7946 0958, card 4111 1111 1111 1111, ssn 536-22-8107, "
            "DE89 3704 0044 0532 0130 00, 10.0.0.1, ::1, a@example.com, AKIAIOSFODNN7EXAMPLE, "
            "password = 'Xk29!pQz7mLw', ghp_ glpat- xox sk- eyJ :// private key aws token")


def guard_step(settings: Settings, hits: Counter) -> GuardStep:
    guardrails = guardrails_of(settings)
    for guard in guardrails.guards.values():
        if guard.settings.type is not GuardType.CUSTOM:  # never call a deployment's own code
            guard.detector.find(_WARM_UP)
    return GuardStep(guardrails, GuardMetrics(hits))
