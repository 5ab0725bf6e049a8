"""datetime, timestamp, weather and web_search (demo backends), echo."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relaygate.agents.tools.builtin.backends import DemoSearch, DemoWeather
from relaygate.agents.tools.builtin.clock import datetime_operation
from relaygate.agents.tools.builtin.weather import weather_tool, web_search_tool
from relaygate.agents.tools.errors import ToolFailed


def test_datetime_now_in_a_zone() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    result = datetime_operation({"operation": "now", "timezone": "Asia/Tokyo"}, now=now)
    assert result["iso"] == "2026-01-15T21:00:00+09:00"
    assert result["weekday"] == "Thursday"


def test_datetime_convert_format_parse_add_diff() -> None:
    converted = datetime_operation(
        {"operation": "convert", "value": "2026-07-01T12:00:00Z", "timezone": "America/New_York"}
    )
    assert converted["iso"] == "2026-07-01T08:00:00-04:00"
    formatted = datetime_operation(
        {"operation": "format", "value": "2026-07-01T12:00:00+00:00", "format": "%d/%m/%Y"}
    )
    assert formatted == {"text": "01/07/2026"}
    parsed = datetime_operation({"operation": "parse", "value": "03.02.2026", "format": "%d.%m.%Y"})
    assert parsed["iso"] == "2026-02-03T00:00:00+00:00"
    added = datetime_operation(
        {"operation": "add", "value": "2026-02-28T10:00:00+00:00", "days": 1, "hours": 2}
    )
    assert added["iso"] == "2026-03-01T12:00:00+00:00"
    diff = datetime_operation(
        {"operation": "diff", "value": "2026-01-01T00:00:00Z", "other": "2026-01-02T06:00:00Z"}
    )
    assert diff["seconds"] == 30 * 3600


def test_datetime_errors_are_clear() -> None:
    with pytest.raises(ToolFailed, match="Unknown time zone"):
        datetime_operation({"operation": "now", "timezone": "Mars/Olympus"})
    with pytest.raises(ToolFailed, match="Cannot parse"):
        datetime_operation({"operation": "convert", "value": "yesterday"})


async def test_demo_backends_say_they_are_demos() -> None:
    weather = weather_tool(DemoWeather())
    search = web_search_tool(DemoSearch())
    assert weather.description.startswith("[DEMO")
    assert search.description.startswith("[DEMO")
    first = await DemoWeather().current("Paris", "metric")
    assert first == await DemoWeather().current("Paris", "metric")  # deterministic
    assert "DEMO" in first["note"]
    results = await DemoSearch().search("relaygate tools", 2)
    assert len(results) == 2 and all(
        item["url"].startswith("https://example.com/") for item in results
    )
