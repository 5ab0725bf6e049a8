"""A workflow's definition (`workflows: {name: {...}}` in the YAML, or `POST /admin/workflows`)
and its checks: unknown step types, duplicate ids, references to missing steps (in
`depends_on` or in a `{{ steps.<id>.output }}` template), cycles, and JSON Schemas that are
not valid — each refused with an InvalidRequest that names the step and the problem."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from relaygate.errors import InvalidRequest

REFERENCE = re.compile(r"\bsteps\.([A-Za-z_][A-Za-z0-9_-]*)")


class StepType(StrEnum):
    AGENT = "agent"  # run a named agent
    MODEL = "model"  # one model call
    TOOL = "tool"  # one gateway tool
    MAP = "map"  # run `step` over a list, `concurrency` at a time
    CONDITION = "condition"  # `if` → `then` steps, else `else` steps
    WAIT = "wait"  # an approval or message, with a timeout


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="allow")  # each type's own fields (input, agent, tool…)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    type: StepType
    depends_on: list[str] = Field(default_factory=list)
    output_schema: dict[str, Any] | None = None


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_schema: dict[str, Any] | None = None
    steps: list[StepSpec] = Field(min_length=1)
    max_steps: int | None = Field(default=None, ge=1)
    max_seconds: float | None = Field(default=None, gt=0)
    max_cost_usd: float | None = Field(default=None, gt=0)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def references(step: StepSpec) -> set[str]:
    """The steps a step's templates name (`{{ steps.x.output }}`)."""
    extra = step.model_extra or {}
    return {match for text in _strings(extra) for match in REFERENCE.findall(text)}


def check_workflow(spec: WorkflowSpec) -> dict[str, set[str]]:
    """Every check; returns each step's prerequisites (depends_on plus references)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    ids = [step.id for step in spec.steps]
    seen: set[str] = set()
    for step_id in ids:
        if step_id in seen:
            raise _bad(f"Step id {step_id!r} is used twice.", "duplicate_step")
        seen.add(step_id)
    needs: dict[str, set[str]] = {}
    for step in spec.steps:
        wanted = set(step.depends_on) | references(step)
        missing = sorted(wanted - seen)
        if missing:
            raise _bad(f"Step {step.id!r} refers to a missing step {missing[0]!r}.",
                       "missing_step_reference", f"steps.{step.id}")
        needs[step.id] = wanted
    cycle = _cycle(needs)
    if cycle:
        raise _bad(f"The workflow has a cycle: {' -> '.join(cycle)}.", "workflow_cycle")
    schemas = [("input_schema", spec.input_schema)] + [
        (f"steps.{step.id}.output_schema", step.output_schema) for step in spec.steps
    ]
    for where, schema in schemas:
        if schema is None:
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise _bad(f"{where} is not a valid JSON Schema: {exc.message}",
                       "invalid_schema", where) from None
    return needs


def _cycle(needs: dict[str, set[str]]) -> list[str]:
    """One cycle as a path of step ids (first id repeated at the end), or []."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for before in sorted(needs[node]):
            if state.get(before) == 1:
                return [*path[path.index(before):], before]
            if before not in state:
                found = visit(before)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(needs):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def check_input(spec: WorkflowSpec, value: Any) -> None:
    """A run's input against the workflow's input_schema (400 naming the failing place)."""
    if spec.input_schema is None:
        return
    from jsonschema import Draft202012Validator

    error = next(iter(Draft202012Validator(spec.input_schema).iter_errors(value)), None)
    if error is not None:
        where = "input" + "".join(f"[{part!r}]" for part in error.absolute_path)
        raise _bad(f"The input does not match the workflow's input_schema at {where}: "
                   f"{error.message}", "schema_mismatch", "input")


def _bad(message: str, code: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)
