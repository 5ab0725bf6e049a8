"""The API families a key may be scoped to (`endpoints: [chat, messages]`), by path prefix.

Routing as data: the first prefix that matches a request's path names its family. Paths
outside every family (health, metrics, `/v1/models`, the pages) need no endpoint scope.
"""

from __future__ import annotations

FAMILIES: tuple[tuple[str, str], ...] = (
    ("/v1/chat/completions", "chat"),
    ("/v1/messages", "messages"),
    ("/v1beta/models/", "gemini"),
    ("/v1/models/", "gemini"),  # generateContent under /v1 (a GET of one model is not scoped)
    ("/v1/responses", "responses"),
    ("/v1/embeddings", "embeddings"),
    ("/v1/images/generations", "images"),
    ("/v1/moderations", "moderations"),
    ("/api/sessions", "sessions"),
    ("/ws/chat", "realtime"),
    ("/api/tools", "tools"),
    ("/mcp", "mcp"),
    ("/v1/agents", "agents"),
    ("/v1/usage", "usage"),
)
FAMILY_NAMES = frozenset(name for _, name in FAMILIES)


def family_of(path: str, method: str = "POST") -> str | None:
    """The family of a request (None: not scoped); reading a model's card is never scoped."""
    if method == "GET" and path.startswith(("/v1/models/", "/v1beta/models")):
        return None
    for prefix, name in FAMILIES:
        if path.startswith(prefix):
            return name
    return None
