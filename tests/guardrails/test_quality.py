"""The corpus figures stay at the issue's targets (`python -m tests.guardrails.measure`
prints them): secrets recall ≥ 0.98 at precision ≥ 0.95, PII recall ≥ 0.95 at precision
≥ 0.9, injection recall ≥ 0.8 at a false positive rate ≤ 5 %."""

from __future__ import annotations

from relaygate.guardrails import pii, secrets
from relaygate.guardrails.settings import PII_ENTITIES, SECRET_KINDS
from tests.guardrails.measure import score


def test_secrets() -> None:
    figures = score("secrets")
    assert figures.tp + figures.fn >= 200 and figures.fp + figures.tn >= 200
    assert figures.recall >= 0.98 and figures.precision >= 0.95


def test_pii() -> None:
    figures = score("pii")
    assert figures.tp + figures.fn >= 200 and figures.fp + figures.tn >= 200
    assert figures.recall >= 0.95 and figures.precision >= 0.9


def test_injection() -> None:
    figures = score("injection")
    assert figures.tp + figures.fn >= 200 and figures.fp + figures.tn >= 200
    assert figures.recall >= 0.8 and figures.fpr <= 0.05


def test_the_settings_name_every_kind_the_detectors_find() -> None:
    assert set(SECRET_KINDS) == {*secrets._PATTERNS, "HIGH_ENTROPY"}
    assert pii.ENTITIES == PII_ENTITIES
