"""Authentication: an API key (Bearer or x-api-key) → the tenant it belongs to.

Keys are kept only as SHA-256 digests; a plaintext key in the config file is hashed
when it is loaded. With no keys configured and the admin API off, the gateway runs open,
as tenant `default`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from starlette.datastructures import Headers

from relaygate.access.grant import Grant, Owned
from relaygate.config import KeySettings
from relaygate.errors import AuthenticationFailed

OPEN_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant, which key (by name and id), and what it may do."""

    tenant: str
    key_name: str | None = None
    key_id: str | None = None
    grant: Grant | None = None  # None: no scope, budget or limit of its own


OPEN_PRINCIPAL = Principal(tenant=OPEN_TENANT)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_from_headers(headers: Headers, query_key: str | None = None) -> str | None:
    """The key a client sent: `Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, `?key=`
    (the first of each header). One pass over the raw, lower-case names, decoding only what
    it keeps: a `Headers.get` of a header that is not there scans them all and raises inside."""
    api_key = goog_key = None
    authorization_seen = False
    for name, value in headers.raw:
        if name == b"authorization":
            if not authorization_seen:  # the first decides, as it wins over the others
                authorization_seen = True
                scheme, _, bearer = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and bearer.strip():
                    return bearer.strip()
        elif name == b"x-api-key":
            api_key = value if api_key is None else api_key
        elif name == b"x-goog-api-key":
            goog_key = value if goog_key is None else goog_key
    key = api_key or goog_key
    return key.decode("latin-1") if key else query_key or None


class KeyStore:
    """The keys of the config file, by the digest of their secret."""

    def __init__(self, keys: list[KeySettings]) -> None:
        self._by_digest: dict[str, Principal] = {}
        for key in keys:
            digest = key.key_sha256 or hash_key(key.key or "")
            self._by_digest[digest] = Principal(
                tenant=key.tenant, key_name=key.name, key_id=digest[:12], grant=_grant(key, digest)
            )

    def grants(self) -> list[Grant]:
        """The keys' grants (scopes, budgets, limits), for those that have one."""
        return [principal.grant for principal in self._by_digest.values()
                if principal.grant is not None]

    def __len__(self) -> int:
        return len(self._by_digest)

    def get(self, digest: str) -> Principal | None:
        return self._by_digest.get(digest)


class KeyLookup(Protocol):
    """The database keys (`access/key_cache.py`): None for an unknown digest."""

    async def principal(self, digest: str) -> Principal | None: ...

    def clear(self) -> None:
        """Forget every cached key (one changed)."""


class Access:
    """Authenticates a key: the config file's first, then the database's (when the admin
    API is on). With neither, the gateway runs open and every caller is tenant `default`."""

    def __init__(self, config_keys: KeyStore, database_keys: KeyLookup | None = None) -> None:
        self.config_keys = config_keys
        self.database_keys = database_keys
        self.is_open = not config_keys and database_keys is None
        # what some key's grant may hold: the steps that read it run only then (a database
        # key may hold anything; the config file's are known)
        grants = config_keys.grants()
        anything = database_keys is not None
        self.scopes_models = anything or any(grant.models is not None for grant in grants)
        self.has_budgets = anything or any(grant.budgets for grant in grants)
        self.has_limits = anything or any(grant.limits for grant in grants)

    async def authenticate(self, key: str | None) -> Principal:
        if self.is_open:
            return OPEN_PRINCIPAL
        if not key:
            raise AuthenticationFailed(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' "
                "or 'x-api-key: <key>'.",
                code="missing_api_key",
            )
        digest = hash_key(key)
        principal = self.config_keys.get(digest)
        if principal is None and self.database_keys is not None:
            principal = await self.database_keys.principal(digest)
        if principal is None:
            hint = f"...{key[-4:]}" if len(key) > 8 else "****"
            raise AuthenticationFailed(f"Incorrect API key provided: {hint}.")
        return principal


def _grant(key: KeySettings, digest: str) -> Grant | None:
    """A YAML key's scopes and caps (its budget and limits are owned by `key:<digest[:12]>`)."""
    if key.models is None and key.endpoints is None and key.budget is None and key.limits is None:
        return None
    owner = f"key:{digest[:12]}"
    return Grant(
        models=tuple(key.models) if key.models is not None else None,
        endpoints=tuple(key.endpoints) if key.endpoints is not None else None,
        budgets=(Owned(owner, key.budget),) if key.budget is not None else (),
        limits=(Owned(owner, key.limits),) if key.limits is not None else (),
    )
