"""Import a module in a worker thread, once, so that the event loop keeps serving.

The agent services and fronts load this way on their first request. One lock keeps those
imports in one thread at a time (module graphs that overlap, imported from two threads at
once, can meet a half-initialised module), and a module is handed out only once complete.

`load_with` does the same for a typed loader: a small function whose body imports, with a
plain `from ... import ...`, what it returns, so the caller gets a typed value and mypy
checks the import; `import_module` takes a module's name."""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar, cast

T = TypeVar("T")

_importing = threading.Lock()
_imported: dict[str, ModuleType] = {}
_loaded: dict[Callable[[], Any], Any] = {}


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


def _load(loader: Callable[[], T]) -> T:
    with _importing:
        if loader not in _loaded:
            _loaded[loader] = loader()
        return cast(T, _loaded[loader])


async def load_with(loader: Callable[[], T]) -> T:
    """What `loader` returns, called (its imports run) in a worker thread the first time."""
    if loader in _loaded:
        return cast(T, _loaded[loader])
    return await asyncio.to_thread(_load, loader)
