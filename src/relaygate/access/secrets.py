"""New key secrets and ids. A secret is `rg-` and 40 URL-safe characters (240 bits)."""

from __future__ import annotations

import secrets

SECRET_PREFIX = "rg-"
VISIBLE_CHARACTERS = 8  # `rg-` and five more: shown in listings, enough to recognise a key


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(30)


def visible_prefix(secret: str) -> str:
    return secret[:VISIBLE_CHARACTERS]


def new_key_id() -> str:
    return "key_" + secrets.token_hex(12)
