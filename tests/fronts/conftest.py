"""Fixtures shared by the front tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import BACKENDS
from tests.support.responses_gateway import ResponsesGateway, responses_gateway


@pytest.fixture(scope="session", params=BACKENDS)
def rgw(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResponsesGateway]:
    """The Responses test gateway, started once per database backend for the session."""
    with responses_gateway(request.param, tmp_path_factory.mktemp("responses")) as gateway:
        yield gateway
