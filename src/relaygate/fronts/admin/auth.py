"""The admin API's gate: off (404) without an admin key; 401 without the right one."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from relaygate.errors import AuthenticationFailed, NotFound
from relaygate.fronts.common import gateway_of
from relaygate.pipeline.auth import key_from_headers
from relaygate.services import Gateway

ADMIN_OFF = (
    "The admin API is off: set `admin: {key: ...}` in the config file or the "
    "RELAYGATE_ADMIN_KEY environment variable (16 characters or more) to turn it on."
)


async def require_admin(request: Request) -> Gateway:
    """The gateway, when the request carries the admin key (Bearer or x-api-key)."""
    gateway = gateway_of(request)
    admin_key = gateway.settings.admin.key
    if admin_key is None:
        raise NotFound(ADMIN_OFF, code="admin_api_off")
    presented = key_from_headers(request.headers)
    if presented is None:
        raise AuthenticationFailed(
            "The admin API needs the admin key: send 'Authorization: Bearer <admin key>'.",
            code="missing_admin_key",
        )
    if not hmac.compare_digest(_digest(presented), _digest(admin_key)):
        raise AuthenticationFailed("Incorrect admin key.", code="invalid_admin_key")
    return gateway


def admin_actor(request: Request) -> str:
    """Who is acting, for the audit log: the admin key's id (a digest's first 12 hex
    digits, so a changed admin key shows as a new actor; never the key)."""
    presented = key_from_headers(request.headers) or ""
    return f"admin:{_digest(presented).hex()[:12]}"


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()
