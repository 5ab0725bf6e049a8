"""`GET /admin/usage?group_by=prompt_version`: the versions of each prompt template side by
side (what an A/B split compares)."""

from __future__ import annotations

from starlette.responses import JSONResponse

from relaygate.lazy_import import import_module
from relaygate.ledger.query import UsageQuery
from relaygate.services import Gateway

GROUP = "prompt_version"


async def prompt_version_usage(gateway: Gateway, query: UsageQuery) -> JSONResponse:
    if gateway.ledger is not None:
        await gateway.ledger.flush()
    store = await import_module("relaygate.store.prompt_usage")
    data = await store.prompt_versions(await gateway.database(), query.since, query.until)
    return JSONResponse({"object": "usage", "group_by": GROUP, "from": query.since_iso,
                         "to": query.until_iso, "data": data})
