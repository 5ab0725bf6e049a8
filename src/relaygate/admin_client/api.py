"""`AdminApi`: a small synchronous client of a running gateway's admin API (`/admin/...`),
for the `relaygate keys|tenants|usage` commands. Errors are `AdminApiError`s carrying
the API's own message."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from relaygate.admin_client.errors import AdminApiError

Json = dict[str, Any]


def _error(response: httpx.Response) -> AdminApiError:
    """The error the API answered (`{"error": {"message", "code", ...}}`), or its text."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and error.get("message"):
        return AdminApiError(str(error["message"]), status=response.status_code,
                             code=error.get("code"))
    text = response.text.strip()[:300] or response.reason_phrase
    return AdminApiError(f"HTTP {response.status_code}: {text}", status=response.status_code)


class AdminApi:
    """The admin API at `base_url`, authenticated with `admin_key` (sent as Bearer)."""

    def __init__(self, base_url: str, admin_key: str, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=timeout,
        )

    def __enter__(self) -> AdminApi:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._http.close()

    def request(
        self, method: str, path: str, *, body: Json | None = None,
        query: dict[str, str] | None = None,
    ) -> Json:
        """The JSON object the API answers (raises AdminApiError for an error answer)."""
        try:
            response = self._http.request(method, path, json=body, params=query)
        except httpx.HTTPError as exc:
            raise AdminApiError(
                f"cannot reach the gateway at {self._http.base_url}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise _error(response)
        answer: Json = response.json()
        return answer

    def every(self, path: str, query: dict[str, str] | None = None) -> list[Json]:
        """Every item of a paginated list (`has_more`/`last_id`, `?after=`)."""
        items: list[Json] = []
        params = {**(query or {}), "limit": "100"}
        while True:
            page = self.request("GET", path, query=params)
            items.extend(page.get("data") or [])
            if not page.get("has_more") or not page.get("last_id"):
                return items
            params["after"] = str(page["last_id"])
