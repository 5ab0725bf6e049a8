"""Trimming rules on their own: newest first, whole units, tool calls kept with results."""

from __future__ import annotations

import pytest

from relaygate.agents.sessions.memory import HistoryEntry, plan_context, units_of
from relaygate.errors import InvalidRequest
from relaygate.types import Role

USER, ASSISTANT, TOOL = Role.USER, Role.ASSISTANT, Role.TOOL


def _history(*items: tuple[Role, int]) -> list[HistoryEntry]:
    return [HistoryEntry(seq, role, tokens) for seq, (role, tokens) in enumerate(items, start=1)]


def test_a_tool_call_and_its_results_form_one_unit() -> None:
    history = _history((USER, 5), (ASSISTANT, 7), (TOOL, 4), (TOOL, 4), (ASSISTANT, 6))
    assert [[entry.seq for entry in unit] for unit in units_of(history)] == [[1], [2, 3, 4], [5]]


def test_keeps_the_newest_that_fit_and_records_the_rest() -> None:
    history = _history((USER, 10), (ASSISTANT, 10), (USER, 10), (ASSISTANT, 10))
    plan = plan_context(history, budget=50, fixed_tokens=25)
    assert plan.first_kept_seq == 3 and plan.kept_tokens == 20
    assert plan.trimmed_messages == 2 and plan.trimmed_tokens == 20
    assert plan.trimmed_through_seq == 2
    assert plan.as_metadata()["context_tokens"] == 45


def test_never_splits_a_tool_call_from_its_result() -> None:
    # the newest unit is a final answer; before it a call with two results (15 tokens)
    history = _history((USER, 5), (ASSISTANT, 5), (TOOL, 5), (TOOL, 5), (ASSISTANT, 5))
    plan = plan_context(history, budget=22, fixed_tokens=5)  # room 17: the answer + 12
    assert plan.first_kept_seq == 5  # the whole call unit (15) does not fit: none of it
    assert plan.trimmed_through_seq == 4
    roomy = plan_context(history, budget=25, fixed_tokens=5)  # room 20: answer + whole unit
    assert roomy.first_kept_seq == 2 and roomy.trimmed_messages == 1


def test_stops_at_the_first_unit_that_does_not_fit() -> None:
    history = _history((USER, 1), (ASSISTANT, 50), (USER, 5))
    plan = plan_context(history, budget=20, fixed_tokens=5)
    assert plan.first_kept_seq == 3  # the tiny first message is not pulled in past the gap
    assert plan.trimmed_messages == 2


def test_nothing_fits_and_too_big() -> None:
    plan = plan_context(_history((USER, 30)), budget=20, fixed_tokens=20)
    assert plan.first_kept_seq is None and plan.trimmed_messages == 1
    assert plan_context([], budget=20, fixed_tokens=20).trimmed_through_seq is None
    with pytest.raises(InvalidRequest) as raised:
        plan_context([], budget=20, fixed_tokens=21)
    assert raised.value.code == "context_length_exceeded"
