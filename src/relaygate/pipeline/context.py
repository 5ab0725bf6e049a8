"""What the gateway knows about one request as it goes; read by the request log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from relaygate.pipeline.auth import Principal
from relaygate.types import Usage


@dataclass(slots=True)
class RequestContext:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    model: str | None = None
    provider: str | None = None
    fast_path: bool = False
    usage: Usage | None = None
    error: str | None = None

    @property
    def tenant(self) -> str | None:
        return self.principal.tenant if self.principal else None
