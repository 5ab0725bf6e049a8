"""Structured JSON logs (structlog + orjson), one line per event. Never log secrets."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import orjson
import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


_QUERY_KEY = re.compile(r"([?&](?:api_key|key)=)[^&\s\"]*", re.IGNORECASE)


class RedactQueryKeys(logging.Filter):
    """uvicorn logs a WebSocket's path with its query string, where browsers put the
    API key (`?api_key=`): blank the key's value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        return True


def _redact(value: Any) -> Any:
    return _QUERY_KEY.sub(r"\1***", value) if isinstance(value, str) else value


def configure_logging(level: str) -> None:
    """JSON lines on stdout at `level`."""
    numeric = _LEVELS.get(level.lower(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.BytesLoggerFactory(sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=numeric, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("uvicorn.error").addFilter(RedactQueryKeys())


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
