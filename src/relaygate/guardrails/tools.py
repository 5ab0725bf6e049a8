"""Guards on the agent loop's hosted tools: arguments before a tool runs, results before
they go back to the model (injection in a fetched page is the common attack)."""

from __future__ import annotations

from relaygate.guardrails.guard import run_guards
from relaygate.guardrails.masking import Masker
from relaygate.guardrails.metrics import GuardMetrics
from relaygate.guardrails.policy import Guardrails
from relaygate.guardrails.settings import GuardOn
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import GuardHit
from relaygate.types import ToolCall


class ToolChecks:
    """The `ToolGuard` of the tool service (agents/tools/service.py)."""

    def __init__(self, guardrails: Guardrails, metrics: GuardMetrics) -> None:
        self._guardrails = guardrails
        self._metrics = metrics

    def arguments(self, principal: Principal, call: ToolCall) -> str:
        return self._check(principal, call.arguments, GuardOn.TOOL_ARGS)

    def result(self, principal: Principal, call: ToolCall, text: str) -> str:
        return self._check(principal, text, GuardOn.TOOL_RESULTS)

    def _check(self, principal: Principal, text: str, where: GuardOn) -> str:
        guards = self._guardrails.at(principal, None, where)
        if not guards:
            return text

        def record(hit: GuardHit) -> None:
            self._metrics.record(hit, principal.tenant, None)

        return run_guards(guards, text, where, Masker(), record)
