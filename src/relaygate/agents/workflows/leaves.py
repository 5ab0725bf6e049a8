"""The leaf steps of a workflow run, on the gateway's services: `model` (one pipeline call
with the run's key), `agent` (a named agent's run: a session), `tool` (one gateway tool),
`wait` (an approval on the bus, or its timeout). A model or agent leaf runs under its step's
`RunCost` (its calls add to it) and does not start once the run has spent its limit."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any

from relaygate.agents.named.catalog import AgentCatalog
from relaygate.agents.named.runs import run_answer
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.tools.service import ToolService
from relaygate.agents.workflows.engine import RunStep
from relaygate.errors import GatewayError, InvalidRequest
from relaygate.pipeline.call import Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.pipeline.run_cost import RunCost, refuse_if_exhausted
from relaygate.streaming.bus import Bus
from relaygate.types import Message, ModelCall, Role, TextPart


def approval_topic(run_id: str, step_id: str) -> str:
    return f"workflows:approve:{run_id}:{step_id}"


async def _wait(bus: Bus, run_id: str, fields: dict[str, Any]) -> Any:
    """An approval published on the bus (from any instance), or a timeout."""
    timeout = float(fields.get("timeout_seconds", 3600))
    async with bus.subscribe(approval_topic(run_id, str(fields["step_id"]))) as messages:
        try:
            async with asyncio.timeout(timeout):
                async for message in messages:
                    return message.get("output")
        except TimeoutError:
            pass
    raise GatewayError(f"The wait step timed out after {timeout:g} s.", code="wait_timeout")


@dataclass(frozen=True, slots=True)
class Leaves:
    """What the leaf steps run on."""

    agents: AgentCatalog
    sessions: SessionService
    tools: ToolService
    pipeline: Pipeline
    bus: Bus


def leaf_runner(services: Leaves, origin: Origin, run_id: str) -> RunStep:
    pipeline, bus = services.pipeline, services.bus

    async def run(kind: str, fields: dict[str, Any], item: Any, cost: RunCost) -> Any:
        if kind == "wait":
            return await _wait(bus, run_id, fields)
        text = str(fields.get("input", "" if item is None else item))
        step_origin = dataclasses.replace(origin, cost=cost)
        if kind == "model":
            refuse_if_exhausted(cost)
            call = ModelCall(model=str(fields.get("model")),
                             messages=[Message(Role.USER, [TextPart(text)])])
            _, result = await pipeline.complete(step_origin.call(call))
            return result.message.text
        if kind == "agent":
            _, output = await run_answer(services.agents, services.sessions, step_origin,
                                         str(fields.get("agent")), text)
            return output
        if kind == "tool":
            arguments = fields.get("arguments") or {}
            if not isinstance(arguments, dict):
                raise InvalidRequest("A tool step's 'arguments' must be an object.")
            try:
                return await services.tools.invoke(origin.principal, str(fields.get("tool")),
                                                   arguments)
            except GatewayError:
                raise
            except Exception as exc:  # a tool's failure fails its step
                raise GatewayError(f"The tool failed: {exc}", code="tool_failed") from exc
        raise InvalidRequest(f"Unknown step type {kind!r}.", code="unknown_step_type")

    return run
