"""A grant: what a key may use (models, API families, tools) and what caps it (budgets,
rate limits), the tenant's defaults narrowed by the key's own — never widened."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from relaygate.config import ToolPolicySettings
from relaygate.control_settings import BudgetSettings, LimitSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Owned(Generic[T]):
    """A budget or a limit and whose it is: `key:<id>` or `tenant:<name>`."""

    owner: str
    settings: T


@dataclass(frozen=True, slots=True)
class Grant:
    models: tuple[str, ...] | None = None  # names or globs; None: every model
    endpoints: tuple[str, ...] | None = None  # API families; None: all
    tools: tuple[ToolPolicySettings, ...] = ()  # every one must permit a tool
    budgets: tuple[Owned[BudgetSettings], ...] = ()  # every one must hold
    limits: tuple[Owned[LimitSettings], ...] = ()  # every one must pass

    def allows_model(self, model: str) -> bool:
        return self.models is None or _matches(model, self.models)

    def allows_endpoint(self, family: str) -> bool:
        return self.endpoints is None or family in self.endpoints


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def narrowed(tenant: Sequence[str] | None, key: Sequence[str] | None) -> tuple[str, ...] | None:
    """The names a key may use: its own list, kept only where the tenant's allows too."""
    if key is None:
        return tuple(tenant) if tenant is not None else None
    if tenant is None:
        return tuple(key)
    return tuple(name for name in key if _matches(name, tenant))


def widens(tenant: Sequence[str] | None, key: Sequence[str] | None) -> list[str]:
    """The key's names that its tenant's list does not allow (a 400 when creating it)."""
    if tenant is None or key is None:
        return []
    return [name for name in key if not _matches(name, tenant)]
