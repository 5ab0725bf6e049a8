"""Running a workflow: steps in dependency order (those ready run together), each one's
state and output stored as it finishes (`on_step`), templates rendered in Jinja2's sandbox
with `input` and `steps.<id>.output`.

Step types run here: `model` (one pipeline call), `agent` (a named agent's run, a session),
`tool` (one gateway tool), `map` (its `step` over a list, `concurrency` at a time),
`condition` (`if` true: the `else` steps are skipped; false: the `then` steps are),
`wait` (an approval, up to `timeout_seconds`). Per-run limits: max steps and time.
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
from relaygate.prompts.render import environment

_JINJA = environment()  # the prompt templates' sandbox: immutable, undefined names are errors


@functools.lru_cache(maxsize=1024)
def _template(text: str) -> Template:
    return _JINJA.from_string(text)


@functools.lru_cache(maxsize=1024)
def _compiled_expression(text: str) -> Callable[..., Any]:
    return _JINJA.compile_expression(text)

RunStep = Callable[[str, dict[str, Any], Any], Awaitable[Any]]
"""Runs one leaf step: (type, the step's fields rendered, the map item or None) → output."""


@dataclass(slots=True)
class StepState:
    status: str = "pending"  # pending | running | completed | failed | skipped
    output: Any = None
    error: str | None = None


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


async def run_workflow(
    run: WorkflowRun, run_step: RunStep, on_step: Callable[[str, StepState], Awaitable[None]],
) -> str:
    """Run what is left of `run` (finished steps are kept: a resumed run goes on from them);
    returns the run's final status."""
    needs = check_workflow(run.spec)
    steps = {step.id: step for step in run.spec.steps}
    for step_id in steps:
        run.states.setdefault(step_id, StepState())
    deadline = time.monotonic() + (run.spec.max_seconds or 3600.0)
    budget = run.spec.max_steps or 1000
    done = {"completed", "skipped"}
    while True:
        pending = [key for key, state in run.states.items() if state.status not in done]
        if not pending:
            return "completed"
        if any(run.states[key].status == "failed" for key in pending):
            return "failed"
        ready = [key for key in pending if all(run.states[need].status in done
                                               for need in needs[key])]
        if budget < len(ready):
            return "failed_max_steps"
        budget -= len(ready)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(_one(run, steps[key], run_step, on_step) for key in ready)),
                max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            return "failed_max_time"


async def _one(run: WorkflowRun, step: StepSpec, run_step: RunStep,
               on_step: Callable[[str, StepState], Awaitable[None]]) -> None:
    state = run.states[step.id]
    state.status = "running"
    await on_step(step.id, state)
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
                    return await run_step(str(inner.get("type")), rendered, item)

            state.output = list(await asyncio.gather(*(each(item) for item in items)))
        elif step.type == "wait":
            state.output = await run_step("wait", {**fields, "step_id": step.id}, None)
        else:
            state.output = await run_step(step.type.value, _render(fields, scope), None)
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
    await on_step(step.id, state)
