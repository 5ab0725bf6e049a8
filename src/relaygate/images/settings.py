"""`images:`: how long the gateway keeps generated images it serves by URL."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ImageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url_ttl_seconds: float = Field(default=3600.0, gt=0)  # OpenAI's URLs last an hour too
    max_bytes_per_tenant: int = Field(default=64 * 1024 * 1024, gt=0)  # oldest go first
    public_base_url: str | None = None  # for the URLs; default: the request's own base URL
