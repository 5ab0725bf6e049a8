"""Import a module in a worker thread, once, so that the event loop keeps serving.

The agent services and fronts load this way on their first request. One lock keeps those
imports in one thread at a time (module graphs that overlap, imported from two threads at
once, can meet a half-initialised module), and a module is handed out only once complete."""

from __future__ import annotations

import asyncio
import importlib
import threading
from types import ModuleType

_importing = threading.Lock()
_imported: dict[str, ModuleType] = {}


def _import(name: str) -> ModuleType:
    with _importing:
        module = _imported.get(name) or importlib.import_module(name)
        _imported[name] = module
        return module


async def import_module(name: str) -> ModuleType:
    """The module `name`, imported in a worker thread the first time."""
    module = _imported.get(name)
    if module is None:
        module = await asyncio.to_thread(_import, name)
    return module
