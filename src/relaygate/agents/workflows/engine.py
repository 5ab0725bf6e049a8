"""Running a workflow: steps in dependency order (those ready run together), each one's
state and output stored as it finishes (`on_step`), templates rendered in Jinja2's sandbox
with `input` and `steps.<id>.output`.

Step types run here: `model` (one pipeline call), `agent` (a named agent's run, a session),
`tool` (one gateway tool), `map` (its `step` over a list, `concurrency` at a time),
`condition` (`if` true: the `else` steps are skipped; false: the `then` steps are),
`wait` (an approval, up to `timeout_seconds`).

Per-run limits: `max_steps` (steps started, a map counting once), `max_seconds` (the run's
time, from this start or resume) and `max_cost_usd`: each step runs under a `RunCost` of its
own below the run's, so every model call a step makes — its own, its agent's loop, the runs
that agent delegates to — counts, and the step's sum is stored as its `cost_usd` (a resumed
run starts from the stored steps' sum). Once the run has spent its limit no step starts,
the steps still running are stopped, and the run ends `failed_max_cost` (as the others end
it `failed_max_steps`, `failed_max_time`).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template, TemplateError

from relaygate.agents.workflows.spec import StepSpec, WorkflowSpec, check_workflow
from relaygate.errors import GatewayError
from relaygate.pipeline.run_cost import RunCost
from relaygate.prompts.render import environment

_JINJA = environment()  # the prompt templates' sandbox: immutable, undefined names are errors


@functools.lru_cache(maxsize=1024)
def _template(text: str) -> Template:
    return _JINJA.from_string(text)


@functools.lru_cache(maxsize=1024)
def _compiled_expression(text: str) -> Callable[..., Any]:
    return _JINJA.compile_expression(text)

RunStep = Callable[[str, dict[str, Any], Any, RunCost], Awaitable[Any]]
"""Runs one leaf step: (type, the step's fields rendered, the map item or None, the step's
cost, which its model calls must add to) → output."""
OnStep = Callable[[str, "StepState"], Awaitable[None]]


@dataclass(slots=True)
class StepState:
    status: str = "pending"  # pending | running | completed | failed | skipped
    output: Any = None
    error: str | None = None
    cost_usd: float | None = None  # its model calls' (and its agents' runs') cost


@dataclass(slots=True)
class WorkflowRun:
    spec: WorkflowSpec
    input: Any
    states: dict[str, StepState] = field(default_factory=dict)

    def scope(self) -> dict[str, Any]:
        return {"input": self.input,
                "steps": {key: {"output": state.output, "status": state.status}
                          for key, state in self.states.items()}}


def _expression(text: Any, scope: dict[str, Any]) -> Any:
    """`{{ x }}` or `x` as a Jinja expression's value (a list stays a list)."""
    if not isinstance(text, str):
        return text
    inner = text.strip()
    if inner.startswith("{{") and inner.endswith("}}"):
        inner = inner[2:-2]
    return _compiled_expression(inner)(**scope)


def _render(value: Any, scope: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _template(value).render(**scope) if "{" in value else value
    if isinstance(value, dict):
        return {key: _render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, scope) for item in value]
    return value


def run_cost(run: WorkflowRun) -> RunCost:
    """The run's spend so far (its stored steps' costs) under its `max_cost_usd`."""
    spent = sum(state.cost_usd or 0.0 for state in run.states.values())
    return RunCost(run.spec.max_cost_usd, what="workflow run", spent_usd=spent)


async def run_workflow(run: WorkflowRun, run_step: RunStep, on_step: OnStep) -> str:
    """Run what is left of `run` (finished steps are kept: a resumed run goes on from them);
    returns the run's final status."""
    needs = check_workflow(run.spec)
    steps = {step.id: step for step in run.spec.steps}
    for step_id in steps:
        run.states.setdefault(step_id, StepState())
    deadline = time.monotonic() + (run.spec.max_seconds or 3600.0)
    budget = run.spec.max_steps or 1000
    cost = run_cost(run)
    done = {"completed", "skipped"}
    while True:
        pending = [key for key, state in run.states.items() if state.status not in done]
        if not pending:
            return "completed"
        if cost.exhausted() is not None:
            return "failed_max_cost"
        if any(run.states[key].status == "failed" for key in pending):
            return "failed"
        ready = [key for key in pending if all(run.states[need].status in done
                                               for need in needs[key])]
        if budget < len(ready):
            return "failed_max_steps"
        budget -= len(ready)
        stopped = await _wave(run, [steps[key] for key in ready], run_step, on_step, cost,
                              deadline)
        if stopped is not None:
            return stopped


async def _wave(run: WorkflowRun, ready: list[StepSpec], run_step: RunStep, on_step: OnStep,
                cost: RunCost, deadline: float) -> str | None:
    """Run the steps that are ready, together; the run's status if a limit stopped them
    (those still running are stopped and stored as failed, with why), else None."""
    wave: asyncio.Future[Any] = asyncio.ensure_future(
        asyncio.gather(*(_one(run, step, run_step, on_step, cost) for step in ready)))
    reached: asyncio.Future[Any] = asyncio.ensure_future(cost.wait_reached())
    try:
        finished, _ = await asyncio.wait({wave, reached}, timeout=max(
            deadline - time.monotonic(), 0.001), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the run was cancelled: so are its running steps
        wave.cancel()
        await asyncio.gather(wave, return_exceptions=True)
        raise
    finally:
        reached.cancel()
    if wave in finished:
        wave.result()
        return None
    wave.cancel()
    await asyncio.gather(wave, return_exceptions=True)
    status, why = ("failed_max_cost", f"Stopped: {cost.describe()}.") if reached in finished \
        else ("failed_max_time", "Stopped: the run's time limit (max_seconds) ran out.")
    for step in ready:
        state = run.states[step.id]
        if state.status == "running":
            state.status, state.error = "failed", why
            await on_step(step.id, state)
    return status


async def _one(run: WorkflowRun, step: StepSpec, run_step: RunStep, on_step: OnStep,
               run_spend: RunCost) -> None:
    state = run.states[step.id]
    state.status = "running"
    await on_step(step.id, state)
    spend = RunCost(None, run_spend, what="workflow run")  # this step's, counted in the run's
    try:
        await _run_one(run, step, state, run_step, on_step, spend)
    finally:
        state.cost_usd = spend.spent_usd or state.cost_usd
    await on_step(step.id, state)


async def _run_one(run: WorkflowRun, step: StepSpec, state: StepState, run_step: RunStep,
                   on_step: OnStep, spend: RunCost) -> None:
    fields = dict(step.model_extra or {})
    scope = run.scope()
    try:
        if step.type == "condition":
            verdict = bool(_expression(fields.get("if"), scope))
            state.output = verdict
            for skipped in fields.get("else" if verdict else "then") or []:
                run.states[skipped].status = "skipped"
                await on_step(skipped, run.states[skipped])
        elif step.type == "map":
            items = _expression(fields.get("over"), scope)
            if not isinstance(items, list):
                raise GatewayError(f"Step {step.id!r}: 'over' is not a list.", code="not_a_list")
            limit = asyncio.Semaphore(int(fields.get("concurrency", 4)))
            inner = dict(fields.get("step") or {})

            async def each(item: Any) -> Any:
                async with limit:
                    rendered = _render(inner, {**scope, "item": item})
                    return await run_step(str(inner.get("type")), rendered, item, spend)

            state.output = list(await asyncio.gather(*(each(item) for item in items)))
        elif step.type == "wait":
            state.output = await run_step("wait", {**fields, "step_id": step.id}, None, spend)
        else:
            state.output = await run_step(step.type.value, _render(fields, scope), None, spend)
        if step.output_schema is not None:
            from jsonschema import Draft202012Validator

            error = next(iter(Draft202012Validator(step.output_schema)
                              .iter_errors(state.output)), None)
            if error is not None:
                raise GatewayError(f"Step {step.id!r}: output does not match its "
                                   f"output_schema: {error.message}", code="schema_mismatch")
        state.status = "completed"
    except GatewayError as error:
        state.status, state.error = "failed", error.message
    except TemplateError as error:  # an undefined name, a sandbox refusal, bad syntax
        state.status, state.error = "failed", f"Step {step.id!r}: template: {error}"
    except KeyError as error:  # a condition naming a step the workflow has not
        state.status, state.error = "failed", f"Step {step.id!r}: no step {error}"
