"""The datetime and timestamp tools (IANA time zones through zoneinfo)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.errors import ToolFailed

DATETIME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "operation": {
            "type": "string",
            "enum": ["now", "convert", "format", "parse", "add", "diff"],
            "description": "now; convert to 'timezone'; format with 'format'; parse 'value'; "
            "add days/hours/minutes/seconds; diff between 'value' and 'other'.",
        },
        "timezone": {"type": "string", "description": "IANA name, e.g. 'Europe/Paris'."},
        "value": {"type": "string", "description": "A date-time, ISO 8601 (or as 'format')."},
        "other": {"type": "string", "description": "The second date-time for 'diff'."},
        "format": {"type": "string", "description": "A strftime/strptime format."},
        "days": {"type": "number"},
        "hours": {"type": "number"},
        "minutes": {"type": "number"},
        "seconds": {"type": "number"},
    },
    "required": ["operation"],
    "additionalProperties": False,
}

TIMESTAMP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "value": {
            "type": ["number", "string"],
            "description": "A Unix timestamp to turn into ISO 8601, or an ISO date-time to turn "
            "into a Unix timestamp. Omit for the current time.",
        },
    },
    "additionalProperties": False,
}


def zone(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolFailed(
            f"Unknown time zone {name!r}; use an IANA name such as 'Europe/Paris'.",
            param="timezone",
        ) from None


def parse_datetime(
    text: str | None, fmt: str | None = None, default_zone: tzinfo = UTC
) -> datetime:
    if not text:
        raise ToolFailed("A date-time 'value' is needed.", param="value")
    try:
        moment = (
            datetime.strptime(text, fmt)
            if fmt
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
        )
    except ValueError as exc:
        raise ToolFailed(f"Cannot parse {text!r} as a date-time: {exc}.", param="value") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=default_zone)


def _describe(moment: datetime) -> dict[str, Any]:
    return {
        "iso": moment.isoformat(),
        "timezone": str(moment.tzinfo),
        "weekday": moment.strftime("%A"),
        "unix": moment.timestamp(),
    }


def datetime_operation(arguments: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    operation = arguments["operation"]
    tz = zone(arguments.get("timezone"))
    if operation == "now":
        return _describe((now or datetime.now(UTC)).astimezone(tz))
    moment = parse_datetime(
        arguments.get("value"), arguments.get("format") if operation == "parse" else None, tz
    )
    if operation in ("convert", "parse"):
        return _describe(moment.astimezone(tz) if operation == "convert" else moment)
    if operation == "format":
        return {"text": moment.strftime(arguments.get("format") or "%Y-%m-%d %H:%M:%S %Z")}
    if operation == "add":
        try:
            delta = timedelta(
                days=arguments.get("days", 0),
                hours=arguments.get("hours", 0),
                minutes=arguments.get("minutes", 0),
                seconds=arguments.get("seconds", 0),
            )
            return _describe(moment + delta)
        except OverflowError:
            raise ToolFailed("The date is out of range.") from None
    other = parse_datetime(arguments.get("other"), None, tz)
    seconds = (other - moment).total_seconds()
    return {"seconds": seconds, "days": seconds / 86400, "human": str(other - moment)}


async def _datetime(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    return datetime_operation(arguments)


async def _timestamp(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    value = arguments.get("value")
    if value is None:
        now = time.time()
        return {"unix": now, "iso": datetime.fromtimestamp(now, UTC).isoformat()}
    if isinstance(value, str):
        return {"unix": parse_datetime(value).timestamp(), "iso": value}
    try:
        return {"unix": value, "iso": datetime.fromtimestamp(value, UTC).isoformat()}
    except (OverflowError, OSError, ValueError):
        raise ToolFailed(f"The timestamp {value} is out of range.", param="value") from None


def datetime_tool() -> Tool:
    return Tool(
        name="datetime",
        description="Dates and times: the current time in a time zone, conversion between "
        "zones, formatting, parsing, adding durations, and the difference between two times.",
        function=_datetime,
        parameters=DATETIME_SCHEMA,
    )


def timestamp_tool() -> Tool:
    return Tool(
        name="timestamp",
        description="The current Unix timestamp, or a conversion between Unix time and ISO 8601.",
        function=_timestamp,
        parameters=TIMESTAMP_SCHEMA,
    )
