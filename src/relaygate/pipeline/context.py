"""What the gateway knows about one HTTP request as it goes; read by the request log.

The front sets who asked and for which model; the pipeline records each upstream call's
outcome here (`record`), so the log line tells what served and what it used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relaygate.pipeline.auth import Principal
from relaygate.types import Usage

if TYPE_CHECKING:
    from relaygate.pipeline.outcome import Outcome


@dataclass(slots=True)
class RequestContext:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    model: str | None = None
    provider: str | None = None
    status: int = 0  # the response's status once it started (the request log sets it)
    upstream_calls: int = 0
    fast_path: bool = False
    usage: Usage | None = None
    error: str | None = None
    headers: list[tuple[bytes, bytes]] | None = None  # steps' response headers (rate limits…)

    @property
    def tenant(self) -> str | None:
        return self.principal.tenant if self.principal else None

    def add_header(self, name: str, value: str) -> None:
        """A header for the response to this request (the request-log middleware sends it)."""
        self.add_headers({name.lower(): value})

    def add_headers(self, headers: dict[str, str]) -> None:
        """Headers for the response, named in lower case already (one call for several)."""
        pairs = [(name.encode("latin-1"), value.encode("latin-1"))
                 for name, value in headers.items()]
        if self.headers is None:
            self.headers = pairs
        else:
            self.headers += pairs

    def add_encoded_pairs(self, pairs: list[tuple[bytes, bytes]]) -> None:
        """Headers already encoded (lower-case names); `pairs` is kept, not copied."""
        if self.headers is None:
            self.headers = pairs
        else:
            self.headers += pairs

    def add_encoded(self, *headers: tuple[bytes, bytes]) -> None:
        """Headers already encoded (lower-case names): what a routed call or the cache adds."""
        if self.headers is None:
            self.headers = list(headers)
        else:
            self.headers += headers

    def record(self, outcome: Outcome) -> None:
        """One upstream call of this request ended: sum its usage into the request's."""
        self.upstream_calls += 1
        self.provider = outcome.provider
        self.fast_path = outcome.relayed
        if outcome.error is not None or outcome.attempt > 1:  # a retry that served clears it
            self.error = outcome.error
        if outcome.usage is None:
            return
        if self.usage is None:
            self.usage = Usage(source=outcome.usage.source)
        self.usage.add(outcome.usage)

