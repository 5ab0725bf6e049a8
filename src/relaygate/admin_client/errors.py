"""The admin client's one error."""

from __future__ import annotations


class AdminApiError(Exception):
    """The admin API answered an error (`status` and `code` from its body), or the
    gateway could not be reached (`status` 0)."""

    def __init__(self, message: str, *, status: int = 0, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
