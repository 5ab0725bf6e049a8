"""Structured JSON logs (structlog + orjson), one line per event. Never log secrets."""

from __future__ import annotations

import logging
import logging.config
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

# Third-party loggers that print secrets or payloads below these levels, held there at any
# `log_level`: websockets (through uvicorn's logger) logs handshake headers and every frame
# at DEBUG, aiosqlite every statement with its parameters, SQLAlchemy's engine the same at
# INFO, httpx and the MCP SDK URLs and JSON-RPC messages.
QUIET_LOGGERS = {
    "uvicorn.error": logging.INFO,
    "uvicorn.asgi": logging.INFO,
    "websockets": logging.INFO,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "mcp": logging.INFO,
}

_SECRETS = [
    # a header line, as `name: value` or `name=value`: the whole value
    (
        re.compile(
            r"((?:proxy-)?authorization|x-api-key|x-goog-api-key|api-key|cookie|set-cookie)"
            r"(['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+",
            re.IGNORECASE,
        ),
        r"\1\2***",
    ),
    (re.compile(r"(bearer\s+)[^\s'\",}]+", re.IGNORECASE), r"\1***"),
    # browsers put the API key of a WebSocket in its query string (`?api_key=`)
    (re.compile(r"([?&](?:api_key|key)=)[^&\s'\"]*", re.IGNORECASE), r"\1***"),
]


def redact(text: str) -> str:
    """`text` with credentials (Authorization, API key headers, bearer tokens, query keys) blanked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """On every handler: a record's message goes out with its credentials blanked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _logging_config(numeric: int) -> dict[str, Any]:
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["redact"],
    }
    loggers: dict[str, Any] = {
        name: {"level": max(numeric, floor)} for name, floor in QUIET_LOGGERS.items()
    }
    loggers["uvicorn"] = {"handlers": ["uvicorn"], "level": numeric, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}},
        "formatters": {
            "plain": {"format": "%(levelname)s %(name)s %(message)s"},
            "uvicorn": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
            },
        },
        "handlers": {
            "plain": {**handler, "formatter": "plain"},
            "uvicorn": {**handler, "formatter": "uvicorn"},
        },
        "root": {"level": numeric, "handlers": ["plain"]},
        "loggers": loggers,
    }


def configure_logging(level: str) -> None:
    """JSON lines on stdout at `level`; the standard library's (uvicorn's too) on stderr,
    the noisy third-party loggers held at `QUIET_LOGGERS`, credentials blanked."""
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
    logging.config.dictConfig(_logging_config(numeric))


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
