"""Fixtures for the semantic cache: the bundled embedder is loaded once per session."""

from __future__ import annotations

import pytest

from relaygate.cache.embedder import BundledE5Embedder


@pytest.fixture(scope="session")
def e5() -> BundledE5Embedder:
    return BundledE5Embedder()
