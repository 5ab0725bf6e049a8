"""Pluggable backends for weather and web search, with offline demo backends by default.

A deployment names its own in config (`tools.weather_backend: "module:factory"`); the
factory is called with no arguments and returns an object with the method below.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

DEMO_NOTE = "DEMO DATA: offline and made up; configure a real backend for real results."


class WeatherBackend(Protocol):
    demo: bool

    async def current(self, location: str, units: str) -> dict[str, Any]:
        """The current weather at `location` ("metric" or "imperial" units)."""


class SearchBackend(Protocol):
    demo: bool

    async def search(self, query: str, max_results: int) -> list[dict[str, Any]]:
        """Results as {title, url, snippet}."""


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.lower().encode("utf-8")).digest()[:4], "big")


class DemoWeather:
    """Deterministic made-up weather (the same place gives the same answer)."""

    demo = True
    _CONDITIONS = ("sunny", "partly cloudy", "cloudy", "light rain", "windy", "clear")

    async def current(self, location: str, units: str) -> dict[str, Any]:
        seed = _seed(location)
        celsius = (seed % 35) - 5
        temperature = celsius if units == "metric" else round(celsius * 9 / 5 + 32)
        return {
            "location": location,
            "temperature": temperature,
            "units": "°C" if units == "metric" else "°F",
            "conditions": self._CONDITIONS[seed % len(self._CONDITIONS)],
            "humidity_percent": 30 + seed % 60,
            "note": DEMO_NOTE,
        }


class DemoSearch:
    """Made-up results on example.com, shaped like real ones."""

    demo = True

    async def search(self, query: str, max_results: int) -> list[dict[str, Any]]:
        slug = "-".join(query.lower().split())[:60] or "query"
        return [
            {
                "title": f"Demo result {index} for '{query}'",
                "url": f"https://example.com/{slug}/{index}",
                "snippet": f"An offline demo result about {query}. {DEMO_NOTE}",
            }
            for index in range(1, max_results + 1)
        ]
