"""Cassette files: one recorded exchange each, named by a hash of its canonical request.

A request's key is its canonical form as plain JSON (codec.py) with what does not change
the answer left out (`stream`, `metadata`, `user`, vendor `extra` fields), secrets
stripped; without tools, `parallel_tool_calls` and `tool_choice` (a front's defaults) are
left out too. A request with no cassette is matched against every cassette of the directory
to name the closest and say where they differ."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from relaygate.errors import NotFound

IGNORED = frozenset({"stream", "include_usage", "metadata", "user", "extra", "model"})
REDACTED = "[redacted]"
_SECRET_PATTERNS = re.compile(
    r"sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{8,}"
)
_SHOWN_DIFFERENCES = 5


class CassetteNotFound(NotFound):
    default_code = "cassette_not_found"


class Secrets:
    """The wrapped provider's key and header values, and anything shaped like a key."""

    def __init__(self, values: list[str]) -> None:
        self._values = sorted({value for value in values if len(value) >= 4}, key=len,
                              reverse=True)

    def strip(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        return _SECRET_PATTERNS.sub(REDACTED, text)

    def strip_value(self, value: Any) -> Any:
        """A JSON value with every string stripped."""
        if isinstance(value, str):
            return self.strip(value)
        if isinstance(value, list):
            return [self.strip_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.strip_value(item) for key, item in value.items()}
        return value


def canonical_key(kind: str, upstream_model: str, request: Any, secrets: Secrets) -> dict[str, Any]:
    """The request's key: kind, upstream model and the fields that shape the answer."""
    fields = {key: value for key, value in request.items() if key not in IGNORED}
    if not fields.get("tools", True):  # without tools, a front's tool defaults mean nothing
        fields.pop("parallel_tool_calls", None)
        fields.pop("tool_choice", None)
    return {"kind": kind, "model": upstream_model, "request": secrets.strip_value(fields)}


def key_name(key: dict[str, Any]) -> str:
    digest = hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return f"{key['kind']}-{digest}.json"


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key != "_t":
                out |= _flat(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list):
        out = {f"{path}.length": len(value)}
        for index, item in enumerate(value):
            out |= _flat(item, f"{path}[{index}]")
        return out
    return {path: value}


def differences(recorded: dict[str, Any], asked: dict[str, Any]) -> list[str]:
    old, new = _flat(recorded), _flat(asked)
    out = []
    for path in sorted(old.keys() | new.keys()):
        if old.get(path, "<absent>") != new.get(path, "<absent>"):
            out.append(f"{path}: recorded {old.get(path, '<absent>')!r}, "
                       f"now {new.get(path, '<absent>')!r}")
    return out


@dataclass(slots=True)
class Cassettes:
    directory: Path

    def load(self, key: dict[str, Any]) -> dict[str, Any] | None:
        path = self.directory / key_name(key)
        if not path.exists():
            return None
        cassette: dict[str, Any] = orjson.loads(path.read_bytes())
        return cassette

    def save(self, key: dict[str, Any], response: dict[str, Any], secrets: Secrets) -> Path:
        """Write the exchange (secrets stripped), atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / key_name(key)
        cassette = {"version": 1, "key": key, "response": secrets.strip_value(response)}
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_bytes(orjson.dumps(cassette, option=orjson.OPT_INDENT_2
                                           | orjson.OPT_SORT_KEYS))
        temporary.replace(path)
        return path

    def missing(self, key: dict[str, Any]) -> CassetteNotFound:
        """The error for a request no cassette holds: the closest one and what differs."""
        best: tuple[int, str, list[str]] | None = None
        for path in sorted(self.directory.glob(f"{key['kind']}-*.json")):
            try:
                recorded = orjson.loads(path.read_bytes())["key"]
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
                continue
            found = differences(recorded, key)
            if best is None or len(found) < best[0]:
                best = (len(found), path.name, found)
        message = (f"No cassette in {self.directory} matches this {key['kind']} request "
                   f"(replay mode; expected {key_name(key)}).")
        if best is not None:
            shown = "; ".join(best[2][:_SHOWN_DIFFERENCES])
            more = len(best[2]) - _SHOWN_DIFFERENCES
            message += f" Closest: {best[1]}, which differs at {shown}"
            message += f" (and {more} more)." if more > 0 else "."
        else:
            message += " The directory holds no cassette of this kind: record first."
        return CassetteNotFound(message)
