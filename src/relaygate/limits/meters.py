"""What a call asks of each limit that applies to it (a `Meter`), and the verdict.

Requests are counted exactly: the times of the last minute's requests (a log of at most
`rpm` entries), so a 100 rpm limit lets 100 through per rolling minute, never 200 across a
window edge, and a refused call learns to the millisecond when it would pass.

Tokens are counted in a sliding window cut into buckets (a reservation is settled in the
bucket it was made in): a call passes when what the buckets hold, plus its cost, stays
within the limit. The buckets looked at cover the window and up to one bucket more, so no
rolling window ever holds more than the limit; capacity comes back up to one bucket
(0.1 s for tpm, 1 minute for tokens_per_day) late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    RPM = "rpm"
    TPM = "tpm"
    TOKENS_PER_DAY = "tokens_per_day"
    MAX_CONCURRENT = "max_concurrent"


@dataclass(frozen=True, slots=True)
class Window:
    seconds: float
    buckets: int

    @property
    def bucket_seconds(self) -> float:
        return self.seconds / self.buckets


WINDOWS = {
    Kind.RPM: Window(60.0, 1),  # a log of request times, not buckets
    Kind.TPM: Window(60.0, 600),
    Kind.TOKENS_PER_DAY: Window(86_400.0, 1440),  # a rolling 24 h in 1-minute buckets
}
TOKEN_KINDS = (Kind.TPM, Kind.TOKENS_PER_DAY)
CONCURRENCY_RETRY_SECONDS = 1.0  # Retry-After of a call refused for max_concurrent


@dataclass(slots=True)
class Meter:
    """One limit of one owner, and what this call costs it; the limiter fills in the rest."""

    owner: str  # "key:<id>", "tenant:<name>" or "model:<name>"
    kind: Kind
    limit: int
    cost: int  # 1 (a request, a slot) or the tokens reserved
    used: int = 0  # what the window (or the slots) held, before this call
    remaining: int = 0  # after this call, when it passed
    reset_seconds: float = 0.0  # until the oldest counted use leaves the window
    bucket: int = 0  # where the cost was counted (tokens are settled there)
    key: str = field(init=False)  # "<owner>:<kind>": the limiter's name for its window

    def __post_init__(self) -> None:
        self.key = f"{self.owner}:{self.kind}"  # made once: the limiter reads it thrice

    @property
    def owner_kind(self) -> str:
        return self.owner.partition(":")[0]


@dataclass(frozen=True, slots=True)
class Verdict:
    refused: Meter | None = None  # the first limit the call would cross
    retry_after: float | None = None  # until it would pass; None: it never can (too large)

    @property
    def allowed(self) -> bool:
        return self.refused is None


ALLOWED = Verdict()
