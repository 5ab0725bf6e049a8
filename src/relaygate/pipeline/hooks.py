"""Hooks from the YAML (`hooks: [{on: before_request, call: "mypkg.hooks:check"}]`).

- `auth(headers)` → a tenant name (or a `Principal`), None to leave it to the keys, or
  `raise Refused(401, "...")`;
- `before_request(call)` may read or change the `Call`, or refuse it: a pipeline step;
- `after_response(outcome)` and `on_error(outcome)` read each upstream call's outcome:
  sinks (`on_error` only for failed calls).

A hook may be a plain or an async function. A refusal is rendered in the front's own
error format; a hook that raises anything else is logged with its name and the client
gets a 500 naming the request id, never a traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relaygate.config import ConfigError, HookPoint, HookSettings
from relaygate.errors import GatewayError, Refused
from relaygate.observability.logging import get_logger
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next
from relaygate.pipeline.outcome import Outcome

_log = get_logger("relaygate.hooks")


@dataclass(frozen=True, slots=True)
class Hook:
    name: str  # as written in the config: `module:function`
    function: Callable[..., Any]

    async def __call__(self, *args: Any) -> Any:
        result = self.function(*args)
        if inspect.isawaitable(result):
            result = await result
        return result


def load_hook(reference: str) -> Hook:
    """Import `module:function`; ConfigError naming the hook when it cannot be loaded."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any failure to import is the config's problem
        raise ConfigError(f"hooks: cannot load {reference!r}: {type(exc).__name__}: {exc}") from exc
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ConfigError(f"hooks: cannot load {reference!r}: no function {attribute!r} there")
    return Hook(reference, function)


@dataclass(slots=True)
class Hooks:
    auth: list[Hook] = field(default_factory=list)
    before_request: list[Hook] = field(default_factory=list)
    after_response: list[Hook] = field(default_factory=list)
    on_error: list[Hook] = field(default_factory=list)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def load(cls, settings: list[HookSettings]) -> Hooks:
        hooks = cls()
        lists = {
            HookPoint.AUTH: hooks.auth,
            HookPoint.BEFORE_REQUEST: hooks.before_request,
            HookPoint.AFTER_RESPONSE: hooks.after_response,
            HookPoint.ON_ERROR: hooks.on_error,
        }
        for hook in settings:
            lists[hook.on].append(load_hook(hook.call))
        return hooks

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The first auth hook's verdict: a principal, None (no hook decided), or Refused."""
        for hook in self.auth:
            verdict = await _guarded(hook, None, headers)
            if isinstance(verdict, Principal):
                return verdict
            if isinstance(verdict, str) and verdict:
                return Principal(tenant=verdict, key_name=hook.name)
            if verdict is not None:
                _log.error("auth hook returned neither a tenant nor None", hook=hook.name)
                raise GatewayError("An authentication hook failed.", code="hook_failed")
        return None

    async def run_before_request(self, call: Call, next: Next) -> Answer:
        """The pipeline step: every before_request hook, in order, then the rest."""
        for hook in self.before_request:
            await _guarded(hook, call.request_id, call)
        return await next(call)

    def outcome_sink(self, outcome: Outcome) -> None:
        """after_response for every outcome, on_error for failed ones; off the request path."""
        hooks = [*self.after_response, *(self.on_error if outcome.error else ())]
        for hook in hooks:
            task = asyncio.get_running_loop().create_task(_observe(hook, outcome))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    @property
    def observes_outcomes(self) -> bool:
        return bool(self.after_response or self.on_error)


async def _guarded(hook: Hook, request_id: str | None, *args: Any) -> Any:
    try:
        return await hook(*args)
    except Refused:
        raise
    except Exception as exc:
        _log.error("hook failed", hook=hook.name, request_id=request_id,
                   error=type(exc).__name__)
        raise GatewayError(
            f"A gateway hook failed while handling the request (request id {request_id}).",
            code="hook_failed",
        ) from None


async def _observe(hook: Hook, outcome: Outcome) -> None:
    try:
        await hook(outcome)
    except Exception as exc:
        _log.error("hook failed", hook=hook.name, request_id=outcome.request_id,
                   error=type(exc).__name__)
