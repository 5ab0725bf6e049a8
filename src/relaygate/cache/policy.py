"""Which calls the cache serves, and how: the YAML's defaults, then the rule of the model,
of the tenant, of the key (the most specific last), then the request's own controls."""

from __future__ import annotations

from dataclasses import dataclass

from relaygate.cache.settings import CacheMode, CacheRule, CacheSettings
from relaygate.pipeline.auth import Principal


@dataclass(frozen=True, slots=True)
class Policy:
    ttl_seconds: float
    mode: CacheMode
    namespace: str  # entries are shared only inside one namespace: a tenant's own by default


class Policies:
    def __init__(self, settings: CacheSettings) -> None:
        self._settings = settings
        self._known: dict[tuple[str, str, str | None], Policy | None] = {}

    def for_call(self, model: str, principal: Principal) -> Policy | None:
        """The policy of a call to `model` by `principal`; None: not cached."""
        key = (model, principal.tenant, principal.key_name)
        if key not in self._known:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[key] = self._resolve(*key)
        return self._known[key]

    def namespace_of(self, tenant: str) -> str:
        """The namespace a tenant's entries live in (`DELETE /admin/cache?tenant=`)."""
        rule = self._settings.tenants.get(tenant)
        if rule is not None and rule.namespace is not None:
            return f"n:{rule.namespace}"
        return f"t:{tenant}"

    def _resolve(self, model: str, tenant: str, key_name: str | None) -> Policy | None:
        settings = self._settings
        enabled, ttl, mode = settings.enabled, settings.ttl_seconds, settings.mode
        rules: list[CacheRule | None] = [settings.models.get(model), settings.tenants.get(tenant)]
        if key_name is not None:
            rules.append(settings.keys.get(key_name))
        for rule in rules:
            if rule is None:
                continue
            enabled = rule.enabled if rule.enabled is not None else enabled
            ttl = rule.ttl_seconds or ttl
            mode = rule.mode or mode
        if not enabled:
            return None
        return Policy(ttl, mode, self.namespace_of(tenant))
