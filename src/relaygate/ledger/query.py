"""The usage API's query parameters: `group_by`, `from`, `to`, `format` (400 naming the
parameter on a bad value).

`from` and `to` take unix seconds, an ISO 8601 date-time (UTC when it has no offset) or
an ISO date. `from` is inclusive, `to` exclusive, except that a bare date as `to` means the
end of that day: `from=2025-01-01&to=2025-01-31` is all of January.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from relaygate.errors import InvalidRequest

ADMIN_GROUPS = ("tenant", "key", "model", "provider", "day")
OWN_GROUPS = ("model", "day", "provider")  # `GET /v1/usage`: one key's own rows
FORMATS = ("json", "csv")
_SECONDS = re.compile(r"[0-9]{1,12}(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class UsageQuery:
    group_by: str
    since: float | None  # unix seconds, inclusive
    until: float | None  # unix seconds, exclusive
    csv: bool

    @property
    def since_iso(self) -> str | None:
        return _iso(self.since)

    @property
    def until_iso(self) -> str | None:
        return _iso(self.until)


def parse_query(params: Mapping[str, str], groups: tuple[str, ...]) -> UsageQuery:
    group_by = params.get("group_by", "model")
    if group_by not in groups:
        raise _invalid("group_by", f"expected one of {', '.join(groups)}")
    output = params.get("format", "json")
    if output not in FORMATS:
        raise _invalid("format", "expected json or csv")
    since = _instant(params, "from", end_of_day=False)
    until = _instant(params, "to", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise _invalid("to", "it must be later than 'from'")
    return UsageQuery(group_by, since, until, output == "csv")


def _instant(params: Mapping[str, str], name: str, end_of_day: bool) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if _SECONDS.fullmatch(raw):
        return float(raw)
    try:
        if _DATE.fullmatch(raw):
            day = date.fromisoformat(raw) + timedelta(days=1 if end_of_day else 0)
            return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _invalid(name, "expected an ISO 8601 date or date-time, or unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _invalid(name: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid value for '{name}': {expected}.", param=name,
                          code="invalid_value")


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
