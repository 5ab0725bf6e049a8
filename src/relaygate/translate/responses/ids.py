"""Identifiers in the shapes OpenAI uses: `resp_…`, `msg_…`, `fc_…`, `rs_…`."""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"
