"""Which limits apply to a call: its key's and its tenant's (the grant's), the default
for a key with none of its own, and its model's (one pool shared by every caller)."""

from __future__ import annotations

from collections.abc import Callable

from relaygate.access.grant import Grant, Owned
from relaygate.control_settings import LimitSettings, LimitsSettings
from relaygate.limits.meters import Kind, Meter
from relaygate.pipeline.call import Call

# each kind with its settings field's name (as a plain str: no Enum.value per call)
_KINDS = tuple((kind, str(kind)) for kind in
               (Kind.RPM, Kind.TPM, Kind.TOKENS_PER_DAY, Kind.MAX_CONCURRENT))


class Rules:
    def __init__(self, settings: LimitsSettings) -> None:
        self.default = settings.default
        self.models = {name: Owned(f"model:{name}", limit)
                       for name, limit in settings.models.items()}
        self.global_limits = self.default is not None or bool(self.models)

    def owned(self, call: Call, grant: Grant | None) -> list[Owned[LimitSettings]]:
        owned = list(grant.limits) if grant is not None else []
        if self.default is not None and not any(o.owner.startswith("key:") for o in owned):
            principal = call.principal
            owner = (f"key:{principal.key_id}" if principal.key_id is not None
                     else f"tenant:{principal.tenant}")
            owned.append(Owned(owner, self.default))
        if self.models:
            name = call.plan.first.model if call.plan is not None else call.model
            model = self.models.get(name) or self.models.get(call.model)
            if model is not None:
                owned.append(model)
        return owned


def meters_of(owned: list[Owned[LimitSettings]], tokens: Callable[[], int]) -> list[Meter]:
    """One meter per limit that is set; `tokens()` (the call's worst case) only if needed."""
    meters: list[Meter] = []
    reserved: int | None = None
    for item in owned:
        limits = item.settings
        for kind, name in _KINDS:
            value: int | None = getattr(limits, name)
            if value is None:
                continue
            cost = 1
            if kind is Kind.TPM or kind is Kind.TOKENS_PER_DAY:
                if reserved is None:
                    reserved = tokens()
                cost = reserved
            meters.append(Meter(item.owner, kind, value, cost))
    return meters
