"""`Prompts`: templates as the pipeline sees them, from an in-process cache.

A lookup does not touch the database: a template (with every version and label) is read
once and kept for `ttl` seconds; a change made through the admin API drops it here and, over
the bus (`prompts` topic), on every instance. Compiled versions never change, so they are
kept for as long as the process lives (bounded)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relaygate.errors import NotFound
from relaygate.loading_cache import LoadingCache
from relaygate.prompts.choose import choose
from relaygate.prompts.content import VersionContent
from relaygate.prompts.ref import PromptRef
from relaygate.prompts.render import Compiled, compile_version
from relaygate.streaming.bus import Bus

if TYPE_CHECKING:
    from relaygate.store.prompts import PromptStore, TemplateRecord

PROMPTS_TOPIC = "prompts"
MAX_COMPILED = 10_000
MAX_TEMPLATES = 10_000


@dataclass(slots=True)
class Resolved:
    template: TemplateRecord
    version: int
    compiled: Compiled


class Prompts:
    def __init__(self, store: Callable[[], Awaitable[PromptStore]], bus: Bus, ttl: float) -> None:
        self._store = store
        self._bus = bus
        self._ttl = ttl
        self._templates: LoadingCache[str, tuple[float, TemplateRecord | None]] = (
            LoadingCache(MAX_TEMPLATES))  # (fresh until, the template)
        self._compiled: dict[tuple[str, int], Compiled] = {}

    async def store(self) -> PromptStore:
        return await self._store()

    async def template(self, key: str) -> TemplateRecord | None:
        """The template named `key` (id or name), from the cache when it is fresh."""
        cached = self._templates.entries.get(key)
        if cached is None or cached[0] <= time.monotonic():
            cached = await self._templates.load(key, self._read)
        return cached[1]

    async def _read(self, key: str) -> tuple[float, TemplateRecord | None]:
        template = await (await self._store()).get(key)
        return time.monotonic() + self._ttl, template

    async def resolve(self, ref: PromptRef, tenant: str, sticky: str) -> Resolved:
        """The version `ref` names for `sticky`, compiled; 404 for an unknown template."""
        template = await self.template(ref.template)
        if template is None or template.archived_at is not None or (
                template.tenant is not None and template.tenant != tenant):
            raise NotFound(f"No prompt template {ref.template!r}.", param="prompt.id",
                           code="prompt_not_found")
        number = choose(template.id, template.latest, template.labels, ref.version, sticky)
        return Resolved(template, number, self.compiled(template, number))

    def compiled(self, template: TemplateRecord, number: int) -> Compiled:
        key = (template.id, number)
        compiled = self._compiled.get(key)
        if compiled is None:
            content = VersionContent.model_validate(template.versions[number])
            compiled = compile_version(content)
            if len(self._compiled) >= MAX_COMPILED:
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled

    async def changed(self) -> None:
        """A template changed here: forget the cached ones here and on every instance."""
        self._templates.clear()
        await self._bus.publish(PROMPTS_TOPIC, {"changed": True})

    async def follow_changes(self) -> None:
        """Another instance changed a template: forget ours (a task for the gateway's life)."""
        async with self._bus.subscribe(PROMPTS_TOPIC) as messages:
            async for _ in messages:
                self._templates.clear()
