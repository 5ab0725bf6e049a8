"""Allowances over each backend's shared counters: calls are served from what an instance
took in advance, the shared counter never holds less than was spent, a hard cap holds for
two instances sharing one counter, and what is unused goes back."""

from __future__ import annotations

import asyncio

from relaygate.budgets.allowance import (
    LEASE_CALLS,
    MAX_LEASE_CALLS,
    RETURN_AFTER,
    AllowanceCounters,
)
from relaygate.budgets.counters import Amount, BudgetCounters, Caps
from relaygate.budgets.periods import current_window
from relaygate.control_settings import BudgetPeriod

MONTH = current_window(BudgetPeriod.MONTH)
CALL = Amount(1_000, 10)  # one call's worst case
ROOMY = Caps(max_nano_usd=10**12, max_tokens=10**9)


async def test_calls_are_served_from_the_allowance_and_it_goes_back(
        counters: BudgetCounters) -> None:
    instance = AllowanceCounters(counters)
    for number in range(1, 11):
        reserved = await instance.reserve("key:a", MONTH, CALL, ROOMY)
        assert reserved.granted and reserved.spent == Amount(1_000 * number, 10 * number)
    shared = await counters.spent("key:a", BudgetPeriod.MONTH)
    assert shared.tokens == 10 * LEASE_CALLS  # one allowance taken for all ten
    assert (await instance.spent("key:a", BudgetPeriod.MONTH)).tokens == 100
    after = await instance.adjust("key:a", MONTH, Amount(400, 4) - CALL)  # a call settles
    assert after == Amount(9_400, 94)
    await instance.give_back()
    shared = await counters.spent("key:a", BudgetPeriod.MONTH)
    assert (round(shared.usd * 1e9), shared.tokens) == (9_400, 94)


async def test_a_busy_instance_takes_allowances_sized_by_its_rate(
        counters: BudgetCounters) -> None:
    instance = AllowanceCounters(counters)
    for _ in range(LEASE_CALLS + 1):  # the first allowance used up in a moment, then one more
        assert (await instance.reserve("key:busy", MONTH, CALL, ROOMY)).granted
    shared = await counters.spent("key:busy", BudgetPeriod.MONTH)
    second = shared.tokens // CALL.tokens - LEASE_CALLS  # calls the second allowance covers
    assert LEASE_CALLS < second <= MAX_LEASE_CALLS
    await instance.give_back()
    assert (await counters.spent("key:busy", BudgetPeriod.MONTH)).tokens == 10 * (LEASE_CALLS + 1)


async def test_a_call_that_cost_more_than_it_reserved_is_counted_in_full(
        counters: BudgetCounters) -> None:
    instance = AllowanceCounters(counters)
    await instance.reserve("key:more", MONTH, CALL, ROOMY)
    await instance.adjust("key:more", MONTH, Amount(1_000_000, 10_000))  # a later attempt's cost
    await instance.give_back()
    shared = await counters.spent("key:more", BudgetPeriod.MONTH)
    assert shared.tokens == 10 + 10_000


async def test_a_hard_cap_holds_for_two_instances_and_is_used_to_the_last_call(
        counters: BudgetCounters) -> None:
    caps = Caps(max_nano_usd=10 * CALL.nano_usd, max_tokens=None)  # ten calls' worth
    first, second = AllowanceCounters(counters), AllowanceCounters(counters)
    results = await asyncio.gather(*(
        (first if index % 2 else second).reserve("key:cap", MONTH, CALL, caps)
        for index in range(30)
    ))
    assert sum(result.granted for result in results) == 10  # none refused early, none over
    shared = await counters.spent("key:cap", BudgetPeriod.MONTH)
    assert round(shared.usd * 1e9) == 10 * CALL.nano_usd


async def test_an_unused_allowance_goes_back_on_its_own(counters: BudgetCounters) -> None:
    instance = AllowanceCounters(counters)
    reserved = await instance.reserve("key:idle", MONTH, CALL, ROOMY)
    await instance.adjust("key:idle", MONTH, Amount() - CALL)  # the call failed: released
    assert reserved.granted
    for _ in range(int(RETURN_AFTER * 10 * 4)):
        if (await counters.spent("key:idle", BudgetPeriod.MONTH)).tokens == 0:
            break
        await asyncio.sleep(0.1)
    assert (await counters.spent("key:idle", BudgetPeriod.MONTH)).tokens == 0
    await instance.close()
