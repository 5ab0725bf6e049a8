"""Our canonical values (calls, results, stream events, embeddings and image results) ↔
plain JSON, so a cassette can hold them: a dataclass is `{"_t": name, ...fields}`, an enum
`{"_e": name, "v": value}`, bytes `{"_b": base64}`."""

from __future__ import annotations

import base64
import dataclasses
from enum import Enum
from typing import Any

from relaygate import types
from relaygate.embeddings import wire as embeddings
from relaygate.images import wire as images

_MODULES = (types, embeddings, images)
CLASSES: dict[str, type] = {
    name: value
    for module in _MODULES
    for name, value in vars(module).items()
    if isinstance(value, type) and (dataclasses.is_dataclass(value) or issubclass(value, Enum))
    and value.__module__ == module.__name__
}


def encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return {"_e": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: encode(getattr(value, field.name))
                  for field in dataclasses.fields(value) if not field.name.startswith("_")}
        return {"_t": type(value).__name__, **fields}
    if isinstance(value, bytes):
        return {"_b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "_e" in value:
        return CLASSES[value["_e"]](value["v"])
    if "_b" in value:
        return base64.b64decode(value["_b"])
    if "_t" in value:
        fields = {key: decode(item) for key, item in value.items() if key != "_t"}
        return CLASSES[value["_t"]](**fields)
    return {key: decode(item) for key, item in value.items()}
