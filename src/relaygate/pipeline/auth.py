"""Authentication: an API key (Bearer or x-api-key) → the tenant it belongs to.

Keys are kept only as SHA-256 digests; a plaintext key in the config file is hashed
when it is loaded. With no keys configured the gateway runs open, as tenant `default`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from relaygate.config import KeySettings
from relaygate.errors import AuthenticationFailed

OPEN_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant, and which key (by name and digest prefix)."""

    tenant: str
    key_name: str | None = None
    key_id: str | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_from_headers(headers: Mapping[str, str], query_key: str | None = None) -> str | None:
    """The key a client sent: `Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, `?key=`."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return headers.get("x-api-key") or headers.get("x-goog-api-key") or query_key or None


class KeyStore:
    """Looks up tenants by the digest of the key presented."""

    def __init__(self, keys: list[KeySettings]) -> None:
        self._by_digest: dict[str, Principal] = {}
        for key in keys:
            digest = key.key_sha256 or hash_key(key.key or "")
            self._by_digest[digest] = Principal(
                tenant=key.tenant, key_name=key.name, key_id=digest[:12]
            )

    @property
    def is_open(self) -> bool:
        """True when no keys are configured: every caller is tenant `default`."""
        return not self._by_digest

    def authenticate(self, key: str | None) -> Principal:
        if self.is_open:
            return Principal(tenant=OPEN_TENANT)
        if not key:
            raise AuthenticationFailed(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' "
                "or 'x-api-key: <key>'.",
                code="missing_api_key",
            )
        principal = self._by_digest.get(hash_key(key))
        if principal is None:
            hint = f"...{key[-4:]}" if len(key) > 8 else "****"
            raise AuthenticationFailed(f"Incorrect API key provided: {hint}.")
        return principal
