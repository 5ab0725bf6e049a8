"""The corpus figures (`python -m tests.guardrails.measure` prints them).

On the `dev` split, which the detectors were tuned on, they stay at the issue's targets:
secrets recall ≥ 0.98 at precision ≥ 0.95, PII recall ≥ 0.95 at precision ≥ 0.9, injection
recall ≥ 0.8 at a false positive rate ≤ 5 %. On `heldout` (text nobody tuned them for) they
stay at least where they were measured (docs/guardrails.md), injection's below its target;
on `blind` (corpus/blind.py, written before the injection scorer was reworked and never tuned
on) and `unseen` (corpus/unseen.py, written before the scorer's character n-grams and never
tuned on) injection stays at its target. Floors sit just under the measured figures."""

from __future__ import annotations

from relaygate.guardrails import pii, secrets
from relaygate.guardrails.settings import PII_ENTITIES, SECRET_KINDS
from tests.guardrails.measure import score


def test_secrets() -> None:
    figures = score("secrets", "dev")
    assert figures.tp + figures.fn >= 200 and figures.fp + figures.tn >= 200
    assert figures.recall >= 0.98 and figures.precision >= 0.95
    held_out = score("secrets", "heldout")
    # measured 1.000 / 1.000 on 264 keys (corpus/secrets_heldout.py's 240 among them)
    assert held_out.tp + held_out.fn >= 200 and held_out.fp + held_out.tn >= 200
    assert held_out.recall >= 0.99 and held_out.precision >= 0.99


def test_pii() -> None:
    figures = score("pii", "dev")
    assert figures.tp + figures.fn >= 200 and figures.fp + figures.tn >= 200
    assert figures.recall >= 0.95 and figures.precision >= 0.9
    held_out = score("pii", "heldout")
    assert held_out.recall >= 0.95 and held_out.precision >= 0.9


def test_injection() -> None:
    figures = score("injection", "dev")
    assert figures.tp + figures.fn >= 200 and figures.fp + figures.tn >= 200
    assert figures.recall >= 0.8 and figures.fpr <= 0.05
    held_out = score("injection", "heldout")
    # measured 0.872 at an FPR of 0.029 (39 attacks, 34 benign)
    assert held_out.recall >= 0.85 and held_out.fpr <= 0.03
    blind = score("injection", "blind")
    assert blind.tp + blind.fn >= 150 and blind.fp + blind.tn >= 150
    # measured 0.899 at an FPR of 0.044
    assert blind.recall >= 0.88 and blind.fpr <= 0.05
    unseen = score("injection", "unseen")
    assert unseen.tp + unseen.fn >= 70 and unseen.fp + unseen.tn >= 70
    # measured 0.867 at an FPR of 0.014
    assert unseen.recall >= 0.85 and unseen.fpr <= 0.02


def test_every_split_holds_samples_fed_as_stream_chunks() -> None:
    for kind in ("secrets", "pii"):
        for split in ("dev", "heldout"):
            assert score(kind, split).chunked > 0


def test_the_settings_name_every_kind_the_detectors_find() -> None:
    assert set(SECRET_KINDS) == {*secrets._PATTERNS, "HIGH_ENTROPY"}
    assert pii.ENTITIES == PII_ENTITIES
