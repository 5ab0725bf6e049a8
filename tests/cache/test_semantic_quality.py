"""Precision and recall of the semantic cache on the held-out half of the labelled pairs.

A pair is a hit when cosine(cached, asked) ≥ DEFAULT_THRESHOLD and the guard lets it
through — exactly what `LocalSemanticIndex.nearest` decides for a single candidate. The
threshold was chosen on the "tune" half only; this test scores the "test" half.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relaygate.cache.embedder import BundledE5Embedder
from relaygate.cache.semantic_guard import contradicts
from relaygate.cache.semantic_index import DEFAULT_THRESHOLD

PAIRS = Path(__file__).with_name("semantic_pairs.jsonl")
MIN_PRECISION = 0.95
MIN_RECALL = 0.60  # measured 0.649 on the test half; a regression below this fails


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float
    true_hits: int
    false_hits: int


def _figures(predicted: list[bool], expected: list[bool]) -> Figures:
    tp = sum(p and e for p, e in zip(predicted, expected, strict=True))
    fp = sum(p and not e for p, e in zip(predicted, expected, strict=True))
    fn = sum(e and not p for p, e in zip(predicted, expected, strict=True))
    return Figures(tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp, fp)


def test_held_out_precision_and_recall(e5: BundledE5Embedder) -> None:
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    assert len(rows) >= 300
    report = []
    held_out: Figures | None = None
    for split in ("tune", "test"):
        part = [row for row in rows if row["split"] == split]
        cached = e5.embed([row["cached"] for row in part])
        asked = e5.embed([row["asked"] for row in part])
        scores = np.einsum("ij,ij->i", cached, asked)
        expected = [bool(row["hit"]) for row in part]
        close = [bool(score >= DEFAULT_THRESHOLD) for score in scores]
        guarded = [
            hit and not contradicts(row["cached"], row["asked"])
            for hit, row in zip(close, part, strict=True)
        ]
        for name, predicted in (("embedding only", close), ("embedding + guard", guarded)):
            figures = _figures(predicted, expected)
            report.append(
                f"{split:4} {name:18} threshold {DEFAULT_THRESHOLD}: precision "
                f"{figures.precision:.3f} recall {figures.recall:.3f} "
                f"({figures.true_hits} right hits, {figures.false_hits} wrong, {len(part)} pairs)"
            )
        if split == "test":
            held_out = _figures(guarded, expected)
    print("\n" + "\n".join(report))
    assert held_out is not None
    assert held_out.precision >= MIN_PRECISION
    assert held_out.recall >= MIN_RECALL
