"""The built-in tools."""

from __future__ import annotations

from relaygate.agents.tools.base import Tool
from relaygate.agents.tools.builtin.backends import SearchBackend, WeatherBackend
from relaygate.agents.tools.builtin.calculator import calculator_tool
from relaygate.agents.tools.builtin.clock import datetime_tool, timestamp_tool
from relaygate.agents.tools.builtin.echo import echo_tool
from relaygate.agents.tools.builtin.files import (
    delete_file_tool,
    read_file_tool,
    write_file_tool,
)
from relaygate.agents.tools.builtin.shell import bash_tool, python_tool
from relaygate.agents.tools.builtin.weather import weather_tool, web_search_tool
from relaygate.config import ToolsSettings


def builtin_tools(
    settings: ToolsSettings, weather: WeatherBackend, search: SearchBackend
) -> list[Tool]:
    return [
        echo_tool(),
        calculator_tool(),
        datetime_tool(),
        timestamp_tool(),
        weather_tool(weather),
        web_search_tool(search),
        read_file_tool(),
        write_file_tool(settings.max_file_bytes),
        delete_file_tool(),
        bash_tool(settings.sandbox),
        python_tool(settings.sandbox),
    ]
