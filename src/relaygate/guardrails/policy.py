"""`Guardrails`: the configured guards, and which of them apply to a call.

Imported only when some guard is configured (it loads phonenumbers and detect-secrets)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from relaygate.guardrails.custom import CustomDetector, load_function
from relaygate.guardrails.findings import Detector
from relaygate.guardrails.guard import Guard
from relaygate.guardrails.injection import InjectionDetector
from relaygate.guardrails.patterns import KeywordDetector, RegexDetector, TokenLimitDetector
from relaygate.guardrails.pii import PiiDetector
from relaygate.guardrails.secrets import SecretsDetector
from relaygate.guardrails.settings import GuardOn, GuardPolicySettings, GuardSettings, GuardType
from relaygate.pipeline.auth import Principal
from relaygate.tokens.tokenizer import count_text


def build_detector(settings: GuardSettings) -> Detector:
    """The detector of one guard (ValueError when its settings cannot be used)."""
    kind = settings.type
    if kind is GuardType.PII:
        return PiiDetector(settings.entities, settings.regions)
    if kind is GuardType.SECRETS:
        return SecretsDetector(settings.entities)
    if kind is GuardType.INJECTION:
        return InjectionDetector(settings.threshold)
    if kind is GuardType.REGEX:
        return RegexDetector(settings.patterns, settings.label or "REGEX")
    if kind is GuardType.KEYWORDS:
        return KeywordDetector(settings.keywords, settings.label or "KEYWORD")
    if kind is GuardType.MAX_INPUT_TOKENS:
        assert settings.max_tokens is not None
        return TokenLimitDetector(settings.max_tokens, count_text)
    assert settings.function is not None
    return CustomDetector(load_function(settings.function))


class Guardrails:
    """Every guard, in the order of `guardrails:`; `for_call` picks a caller's."""

    def __init__(self, guards: Mapping[str, Guard], policy: GuardPolicySettings) -> None:
        self.guards = dict(guards)
        self.policy = policy
        self._order = {name: index for index, name in enumerate(self.guards)}
        self._chosen: dict[tuple[str, str | None, str | None], tuple[Guard, ...]] = {}

    @classmethod
    def build(cls, settings: Mapping[str, GuardSettings], policy: GuardPolicySettings,
              detector: Callable[[GuardSettings], Detector] = build_detector) -> Guardrails:
        guards = {}
        for name, guard in settings.items():
            try:
                guards[name] = Guard(name, guard, detector(guard))
            except ValueError as exc:
                raise ValueError(f"guardrails.{name}: {exc}") from exc
        return cls(guards, policy)

    def for_call(self, principal: Principal, model: str | None) -> tuple[Guard, ...]:
        """The guards for this tenant, key and model (cached: the policy is fixed)."""
        key = (principal.tenant, principal.key_name, model)
        chosen = self._chosen.get(key)
        if chosen is None:
            policy = self.policy
            names = {*policy.default, *policy.tenants.get(principal.tenant, ())}
            if principal.key_name is not None:
                names.update(policy.keys.get(principal.key_name, ()))
            if model is not None:
                names.update(policy.models.get(model, ()))
            chosen = tuple(sorted((self.guards[name] for name in names if name in self.guards),
                                  key=lambda guard: self._order[guard.name]))
            if len(self._chosen) < 10_000:
                self._chosen[key] = chosen
        return chosen

    def at(self, principal: Principal, model: str | None, where: GuardOn) -> list[Guard]:
        return [guard for guard in self.for_call(principal, model) if guard.looks_at(where)]
