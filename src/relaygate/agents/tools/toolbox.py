"""A `Toolbox`: the tools one caller chose for one session or request, ready for the loop."""

from __future__ import annotations

import time
from dataclasses import dataclass

from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.errors import ToolDenied, ToolNotFound
from relaygate.agents.tools.metrics import ToolOutcomeKind
from relaygate.agents.tools.outcome import ToolOutcome, to_text
from relaygate.agents.tools.service import ToolService
from relaygate.agents.tools.validation import parse_arguments
from relaygate.errors import GatewayError
from relaygate.observability.tracing.current import span
from relaygate.pipeline.auth import Principal
from relaygate.types import ToolCall, ToolSpec


@dataclass(slots=True)
class Toolbox:
    service: ToolService
    principal: Principal
    context: ToolContext
    tools: dict[str, Tool]

    @property
    def names(self) -> list[str]:
        return sorted(self.tools)

    def specs(self) -> list[ToolSpec]:
        return [self.tools[name].spec() for name in self.names]

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    async def run(self, call: ToolCall) -> ToolOutcome:
        """Run one model tool call; every failure becomes a tool error for the model."""
        tool = self.tools.get(call.name)
        with span(f"execute_tool {call.name}", {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name,
            "gen_ai.tool.call.id": call.id,
            "relaygate.tool.sandboxed": bool(tool is not None and tool.sandboxed),
            "relaygate.tool.source": tool.source if tool is not None else "unknown",
        }) as handle:
            outcome = await self._run(call)
            if handle is not None and outcome.is_error:
                handle.set_attribute("error.type", outcome.error_code or "tool_error")
            return outcome

    async def _run(self, call: ToolCall) -> ToolOutcome:
        started = time.perf_counter()
        tool = self.tools.get(call.name)
        try:
            if tool is None:
                raise self._unavailable(call.name)
            # Policies may have changed since the toolbox was built: check again.
            if not self.service.policies.allows(self.principal, tool):
                self.service.metrics.record(tool.name, ToolOutcomeKind.DENIED)
                raise ToolDenied(self.service.policies.reason(self.principal, tool))
            guard = self.service.guard
            text = guard.arguments(self.principal, call) if guard else call.arguments
            arguments = parse_arguments(text)
            value = await self.service.execute(tool, arguments, self.context)
            if guard is not None:
                shown = to_text(value)
                checked = guard.result(self.principal, call, shown)
                if checked != shown:
                    value = checked
        except GatewayError as error:
            return ToolOutcome(
                call.id,
                call.name,
                {"error": error.message, **({"code": error.code} if error.code else {}),
                 **({"field": error.param} if error.param else {})},
                is_error=True,
                error_code=error.code,
                duration_ms=_ms(started),
            )
        return ToolOutcome(call.id, call.name, value, duration_ms=_ms(started))

    def _unavailable(self, name: str) -> ToolDenied | ToolNotFound:
        """Why a name the model used is not in this toolbox: denied, or unknown here."""
        known = self.service.registry.get(name, self.principal.tenant)
        if known is not None and not self.service.policies.allows(self.principal, known):
            self.service.metrics.record(name, ToolOutcomeKind.DENIED)
            return ToolDenied(self.service.policies.reason(self.principal, known))
        return ToolNotFound(f"No tool named {name!r} is available here.")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def build_toolbox(
    service: ToolService,
    principal: Principal,
    names: list[str] | None = None,
    session_id: str | None = None,
) -> Toolbox:
    """Every tool the caller may use (names=None), or exactly `names` (404/403 otherwise)."""
    if names is None:
        chosen = {tool.name: tool for tool in service.visible(principal)}
    else:
        chosen = {name: service.resolve(principal, name) for name in dict.fromkeys(names)}
    return Toolbox(service, principal, service.context(principal, session_id), chosen)
