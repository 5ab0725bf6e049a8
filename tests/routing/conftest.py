"""The routing tests' upstreams: the fault-injecting OpenAI upstream and the fake Anthropic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_anthropic import FakeAnthropic
from tests.support.faulty_upstream import FaultyUpstream
from tests.support.routing_gateway import Upstreams
from tests.support.servers import ThreadedServer


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FaultyUpstream, ThreadedServer, FakeAnthropic, ThreadedServer]]:
    faulty, anthropic = FaultyUpstream(), FakeAnthropic()
    with ThreadedServer(faulty.app) as server, ThreadedServer(anthropic.app) as anthropic_server:
        yield faulty, server, anthropic, anthropic_server


@pytest.fixture
def upstreams(
    servers: tuple[FaultyUpstream, ThreadedServer, FakeAnthropic, ThreadedServer],
) -> Upstreams:
    faulty, server, anthropic, anthropic_server = servers
    faulty.faults.clear()
    faulty.reset_counts()
    faulty.max_in_flight.clear()
    return Upstreams(faulty, server, anthropic, anthropic_server)
