"""`AgentCatalog`: the named agents a tenant may run — the YAML's, then the admin API's."""

from __future__ import annotations

from relaygate.agents.named.spec import AgentSpec
from relaygate.errors import Conflict, NotFound
from relaygate.store.agents import AgentStore
from relaygate.store.db import Database


class AgentCatalog:
    """Looks agents up by name; the YAML's are fixed, the stored ones change at runtime."""

    def __init__(self, configured: dict[str, AgentSpec], database: Database) -> None:
        self.configured = configured
        self.store = AgentStore(database)

    async def get(self, name: str, tenant: str | None = None) -> AgentSpec:
        """The agent `name` (404 if unknown, or reserved to another tenant)."""
        spec = self.configured.get(name)
        if spec is None:
            stored = await self.store.get(name)
            spec = None if stored is None else AgentSpec.model_validate(stored)
        if spec is None or (tenant is not None and spec.tenant not in (None, tenant)):
            raise NotFound(f"No agent named {name!r}.", param="name", code="agent_not_found")
        return spec

    async def all(self, tenant: str | None = None) -> dict[str, AgentSpec]:
        agents = {name: AgentSpec.model_validate(spec)
                  for name, spec in (await self.store.all()).items()}
        agents.update(self.configured)
        return {name: spec for name, spec in sorted(agents.items())
                if tenant is None or spec.tenant in (None, tenant)}

    async def create(self, name: str, spec: AgentSpec) -> None:
        if name in self.configured or not await self.store.create(name, spec.model_dump()):
            raise Conflict(f"An agent named {name!r} exists already.", param="name",
                           code="agent_exists")

    async def replace(self, name: str, spec: AgentSpec) -> None:
        if not await self.store.replace(name, spec.model_dump()):
            raise self._not_stored(name)

    async def delete(self, name: str) -> None:
        if not await self.store.delete(name):
            raise self._not_stored(name)

    def _not_stored(self, name: str) -> NotFound:
        where = " (it is in the config file: change it there)" if name in self.configured else ""
        return NotFound(f"No agent named {name!r} in the admin API{where}.", param="name",
                        code="agent_not_found")
