"""A deployment's timeouts, each lowered by the request's `x-relaygate-timeout`."""

from __future__ import annotations

from relaygate.pipeline.deadlines import Deadlines, deadlines_for
from relaygate.routing.settings import TimeoutsSettings


def test_the_request_lowers_every_limit_but_the_idle_gap() -> None:
    own = TimeoutsSettings(connect=2, first_byte=10, total=60, stream_idle=5)
    assert deadlines_for(own, None) == Deadlines(2, 10, 60, 5)
    assert deadlines_for(own, 1.5) == Deadlines(1.5, 1.5, 1.5, 5)
    assert deadlines_for(own, 30) == Deadlines(2, 10, 30, 5)


def test_without_a_deployments_timeouts_the_request_sets_them() -> None:
    assert deadlines_for(None, None) is None
    assert deadlines_for(None, 3) == Deadlines(3, 3, 3, None)
    assert deadlines_for(TimeoutsSettings(first_byte=4), None) == Deadlines(None, 4, None, None)
