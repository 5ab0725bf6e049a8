"""Precision and recall of the built-in guards on the labelled corpus.

    PYTHONPATH=src python -m tests.guardrails.measure [--split dev|heldout|blind]

Figures for each split (corpus/generate.py: `dev`, which the detectors were tuned on, and
`heldout`, which they may not be; for injection also `blind`, corpus/blind.py, written
before its detector was reworked and never tuned on) and for all of them. A sample with `chunks` is fed to the stream's rolling window chunk by chunk (an output
guard that blocks), so a value split across chunks must still be caught."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from relaygate.guardrails.errors import GuardrailBlocked
from relaygate.guardrails.guard import Guard
from relaygate.guardrails.masking import Masker
from relaygate.guardrails.policy import build_detector
from relaygate.guardrails.settings import GuardSettings
from relaygate.guardrails.stream import TextWindow

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    chunked: int = 0  # samples fed to the stream window in chunks
    missed: list[str] | None = None
    false: list[str] | None = None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def _hit(guard: Guard, row: dict[str, object]) -> bool:
    chunks = row.get("chunks")
    if not isinstance(chunks, list):
        return bool(guard.detector.find(str(row["text"])))
    window = TextWindow([guard], Masker(), lambda hit: None)
    try:
        for chunk in chunks:
            window.feed(chunk)
        window.flush()
    except GuardrailBlocked:
        return True
    return False


def score(kind: str, split: str | None = None) -> Score:
    """The guard's figures on the corpus of `kind` (one split, or all of it)."""
    guard = Guard(kind, settings := GuardSettings.model_validate(
        {"type": kind, "on": ["input", "output"]}), build_detector(settings))
    result = Score(missed=[], false=[])
    for line in (CORPUS / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if split is not None and row["split"] != split:
            continue
        hit, label = _hit(guard, row), row["label"] == 1
        result.chunked += isinstance(row.get("chunks"), list)
        if hit and label:
            result.tp += 1
        elif hit:
            result.fp += 1
            result.false.append(row["text"])  # type: ignore[union-attr]
        elif label:
            result.fn += 1
            result.missed.append(row["text"])  # type: ignore[union-attr]
        else:
            result.tn += 1
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "heldout", "blind", "unseen"], action="append")
    parser.add_argument("--show", type=int, default=8, help="misses and false hits listed")
    args = parser.parse_args()
    splits: list[str | None] = args.split or ["dev", "heldout", "blind", "unseen", None]
    print(f"{'type':<10} {'split':<8} {'pos':>4} {'neg':>4} {'precision':>9} {'recall':>7} "
          f"{'FPR':>6}")
    for kind in ("secrets", "pii", "injection"):
        for split in splits:
            s = score(kind, split)
            if not s.tp + s.fn + s.fp + s.tn:
                continue  # no sample of this type in the split
            print(f"{kind:<10} {split or 'all':<8} {s.tp + s.fn:>4} {s.fp + s.tn:>4} "
                  f"{s.precision:>9.3f} {s.recall:>7.3f} {s.fpr:>6.3f}")
            if split in ("blind", "unseen") or (split is None and len(splits) > 1):
                continue  # blind misses are never listed (nobody tunes on them)
            for text in (s.missed or [])[:args.show]:
                print("   missed:", repr(text[:100]))
            for text in (s.false or [])[:args.show]:
                print("   false: ", repr(text[:100]))


if __name__ == "__main__":
    main()
