"""Build provider objects from settings: a registry of classes by provider type."""

from __future__ import annotations

from collections.abc import Callable

from relaygate.config import ProviderSettings, ProviderType
from relaygate.providers.anthropic import AnthropicProvider
from relaygate.providers.base import Provider
from relaygate.providers.gemini import GeminiProvider
from relaygate.providers.mock.provider import MockProvider
from relaygate.providers.openai import OpenAIProvider
from relaygate.providers.openai_responses import OpenAIResponsesProvider
from relaygate.providers.replay.cassettes import Secrets
from relaygate.providers.replay.provider import ReplayProvider

ProviderFactory = Callable[[str, ProviderSettings], Provider]

PROVIDER_TYPES: dict[ProviderType, ProviderFactory] = {
    ProviderType.MOCK: MockProvider,
    ProviderType.OPENAI: OpenAIProvider,
    ProviderType.OPENAI_RESPONSES: OpenAIResponsesProvider,
    ProviderType.ANTHROPIC: AnthropicProvider,
    ProviderType.GEMINI: GeminiProvider,
}


def build_providers(settings: dict[str, ProviderSettings]) -> dict[str, Provider]:
    """One provider object per configured name; raises ValueError for an unbuilt type.
    Replay providers wrap one built before them (any other type)."""
    providers: dict[str, Provider] = {}
    for name, provider_settings in settings.items():
        if provider_settings.type is ProviderType.REPLAY:
            continue
        factory = PROVIDER_TYPES.get(provider_settings.type)
        if factory is None:
            raise ValueError(
                f"provider {name!r}: type {provider_settings.type.value!r} "
                "is not available in this build"
            )
        providers[name] = factory(name, provider_settings)
    for name, provider_settings in settings.items():
        if provider_settings.type is ProviderType.REPLAY:
            providers[name] = _replay(name, provider_settings, settings, providers)
    return providers


def _replay(name: str, replay: ProviderSettings, settings: dict[str, ProviderSettings],
            providers: dict[str, Provider]) -> Provider:
    inner = providers.get(replay.of or "")
    if inner is None:
        raise ValueError(f"provider {name!r}: `of` must name another configured provider "
                         f"that is not a replay (got {replay.of!r})")
    wrapped = settings[replay.of or ""]
    secrets = Secrets([value for value in (wrapped.api_key, *wrapped.headers.values()) if value])
    return ReplayProvider(name, replay, inner, secrets)
