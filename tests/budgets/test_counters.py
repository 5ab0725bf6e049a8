"""The shared budget counters — the database's (SQLite, PostgreSQL) and Redis's: a hard
cap holds under concurrent reservations, settling adjusts exactly, an alert is claimed
once, and `spent` reports the period's spend."""

from __future__ import annotations

import asyncio

import pytest

from relaygate.budgets.counters import Amount, BudgetCounters, Caps
from relaygate.budgets.periods import current_window
from relaygate.control_settings import BudgetPeriod

MONTH = current_window(BudgetPeriod.MONTH)


async def test_a_hard_cap_holds_under_concurrent_reservations(counters: BudgetCounters) -> None:
    caps = Caps(max_nano_usd=5_000, max_tokens=None)
    results = await asyncio.gather(*(
        counters.reserve("key:concurrent", MONTH, Amount(1_000, 10), caps) for _ in range(20)
    ))
    assert sum(result.granted for result in results) == 5
    refused = [result for result in results if not result.granted]
    assert all(result.spent == Amount(5_000, 50) for result in refused)
    spent = await counters.spent("key:concurrent", BudgetPeriod.MONTH)
    assert (spent.usd, spent.tokens, spent.period_end) == (5e-6, 50, MONTH.end)


async def test_tokens_cap_and_soft_reservations(counters: BudgetCounters) -> None:
    caps = Caps(max_nano_usd=None, max_tokens=100)
    assert (await counters.reserve("tenant:t", MONTH, Amount(0, 100), caps)).granted
    assert not (await counters.reserve("tenant:t", MONTH, Amount(0, 1), caps)).granted
    soft = await counters.reserve("tenant:t", MONTH, Amount(0, 50), None)  # soft: always
    assert soft.granted and soft.spent.tokens == 150


async def test_settling_replaces_the_reservation(counters: BudgetCounters) -> None:
    await counters.reserve("key:settle", MONTH, Amount(9_000, 90), None)
    after = await counters.adjust("key:settle", MONTH, Amount(4_000, 40) - Amount(9_000, 90))
    assert after == Amount(4_000, 40)
    released = await counters.adjust("key:settle", MONTH, Amount() - Amount(4_000, 40))
    assert released == Amount()


async def test_periods_count_apart(counters: BudgetCounters) -> None:
    day = current_window(BudgetPeriod.DAY)
    await counters.reserve("key:periods", day, Amount(1, 1), None)
    assert (await counters.spent("key:periods", BudgetPeriod.DAY)).tokens == 1
    assert (await counters.spent("key:periods", BudgetPeriod.MONTH)).tokens == 0
    assert (await counters.spent("key:periods", BudgetPeriod.TOTAL)).period_end is None


async def test_an_alert_is_claimed_once(counters: BudgetCounters) -> None:
    claims = await asyncio.gather(*(
        counters.claim_alert("key:alerts", MONTH, 80) for _ in range(10)
    ))
    assert claims.count(True) == 1
    assert await counters.claim_alert("key:alerts", MONTH, 100)


async def test_concurrent_reservations_each_see_the_counter_after_their_own(
        counters: BudgetCounters) -> None:
    caps = Caps(max_nano_usd=10**12, max_tokens=10**9)
    results = await asyncio.gather(*(
        counters.reserve("key:together", MONTH, Amount(1_000, 10), caps) for _ in range(5)
    ))
    assert all(result.granted for result in results)
    assert sorted((result.spent for result in results), key=lambda spent: spent.tokens) == [
        Amount(1_000 * n, 10 * n) for n in range(1, 6)]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_reservation_whose_caller_left_is_given_back(counters: BudgetCounters) -> None:
    caps = Caps(max_nano_usd=None, max_tokens=100)
    await counters.reserve("key:left", MONTH, Amount(0, 10), caps)  # the row exists
    leaving = asyncio.ensure_future(counters.reserve("key:left", MONTH, Amount(0, 60), caps))
    await asyncio.sleep(0)  # queued, not yet written
    leaving.cancel()
    await counters.adjust("key:left", MONTH, Amount())  # written after the reservation
    await counters.adjust("key:left", MONTH, Amount())  # after the release it queued
    assert (await counters.spent("key:left", BudgetPeriod.MONTH)).tokens == 10
    assert (await counters.reserve("key:left", MONTH, Amount(0, 90), caps)).granted
