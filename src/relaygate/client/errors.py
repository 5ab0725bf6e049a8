"""The client's one error: the gateway (or the network) refused or failed a request."""

from __future__ import annotations

from typing import Any


class GatewayClientError(Exception):
    """An error answer from the gateway (`status` > 0) or a transport failure (`status` 0).

    `type`, `code` and `param` are those of the gateway's error body when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.body = body

    def __str__(self) -> str:
        return f"{self.status} {self.code or self.type or 'error'}: {self.message}"
