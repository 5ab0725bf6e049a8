"""Finding a live session: unknown, another tenant's, or expired are all a 404 (an expired
one says so), and using a session slides its expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from relaygate.agents.sessions.repository import EXPIRED, SessionRepository
from relaygate.errors import NotFound
from relaygate.store.sessions import SessionRow


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


async def live_session(
    repository: SessionRepository, tenant: str, session_id: str, *, touch: bool
) -> SessionRow:
    now = time.time()
    row = await repository.load(tenant, session_id)
    if row is None:
        raise NotFound(
            f"No session found with id '{session_id}'.",
            param="session_id",
            code="session_not_found",
        )
    if row.status == EXPIRED or row.expires_at <= now:
        raise NotFound(
            f"Session '{session_id}' expired at {_iso(row.expires_at)} after "
            f"{row.ttl_seconds} seconds without use.",
            param="session_id",
            code="session_expired",
        )
    if touch and now + row.ttl_seconds - row.expires_at >= min(1.0, row.ttl_seconds / 10):
        row.expires_at = now + row.ttl_seconds
        await repository.touch(row.id, now, row.expires_at)
    return row
