"""Model names → (provider, upstream model), with aliases, rewrites and `provider:model`."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass

from relaygate.config import ModelSettings, ProviderType, Settings, deployment_ids
from relaygate.errors import ModelNotFound
from relaygate.providers.base import Provider
from relaygate.routing.groups import RoutePlan, Router
from relaygate.routing.prices import FREE, Price, price_for
from relaygate.types import Usage

__all__ = ["ModelRegistry", "Route", "RoutePlan", "cost_of"]

MAX_CACHED_PLANS = 4096


@dataclass(frozen=True, slots=True)
class Route:
    """Where a call for `model` goes."""

    model: str  # the name the client asked for
    provider: Provider
    upstream_model: str
    context_window: int | None = None
    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None
    cached_input_price_per_mtok: float | None = None
    request_price_usd: float | None = None
    max_output_tokens: int | None = None  # reserved by budgets and limits when a call sets none
    deployment: str | None = None  # the deployment id (docs/routing.md); None: `provider:model`


def cost_of(usage: Usage, route: Route) -> float | None:
    """US dollars for `usage` at the route's prices; None when the route has no price.

    `usage.input_tokens` counts the cached ones too (every translator adds them in): those
    are charged at the cached price (the input price when there is none), the rest at the
    input price; then the output tokens and the per-request price."""
    input_price = route.input_price_per_mtok
    output_price = route.output_price_per_mtok
    request_price = route.request_price_usd
    if input_price is None and output_price is None and request_price is None:
        return None
    input_price = input_price or 0.0
    cached_price = route.cached_input_price_per_mtok
    if cached_price is None:
        cached_price = input_price
    cached = min(usage.cached_tokens, usage.input_tokens)
    tokens_cost = (
        (usage.input_tokens - cached) * input_price
        + cached * cached_price
        + usage.output_tokens * (output_price or 0.0)
    ) / 1_000_000
    return tokens_cost + (request_price or 0.0)


def _priced(route: Route, price: Price | None) -> Route:
    """`route` with the fields its configuration left unset taken from `price`."""
    if price is None:
        return route
    return dataclasses.replace(
        route,
        input_price_per_mtok=_first(route.input_price_per_mtok, price.input_per_mtok),
        output_price_per_mtok=_first(route.output_price_per_mtok, price.output_per_mtok),
        cached_input_price_per_mtok=_first(
            route.cached_input_price_per_mtok, price.cached_input_per_mtok
        ),
        request_price_usd=_first(route.request_price_usd, price.request_usd),
    )


def _first(configured: float | None, built_in: float | None) -> float | None:
    return configured if configured is not None else built_in


class ModelRegistry:
    """Resolves the model name of a request to a Route; routing as data."""

    def __init__(self, settings: Settings, providers: dict[str, Provider]) -> None:
        self._providers = providers
        self._routes: dict[str, Route] = {}  # a group's name → its first deployment
        self._deployments: list[Route] = []
        self._free = {  # the mock's answers cost nothing: a known price, not an unknown one
            name for name, provider in settings.providers.items()
            if provider.type is ProviderType.MOCK
        }
        for model, deployment in zip(settings.models, deployment_ids(settings), strict=True):
            route = self._configured(model, providers[model.provider], deployment)
            self._routes.setdefault(model.name, route)
            self._deployments.append(route)
        self.router = Router(settings.models, self._deployments, settings.routing)
        self._aliases = dict(settings.aliases)
        self._plans: dict[str, RoutePlan] = {}
        self._rewrites = [(rewrite.match, rewrite.to) for rewrite in settings.rewrites]

    @property
    def providers(self) -> dict[str, Provider]:
        return self._providers

    def _configured(self, model: ModelSettings, provider: Provider, deployment: str) -> Route:
        route = Route(
            model=model.name,
            provider=provider,
            upstream_model=model.model or model.name,
            context_window=model.context_window,
            input_price_per_mtok=model.input_price_per_mtok,
            output_price_per_mtok=model.output_price_per_mtok,
            cached_input_price_per_mtok=model.cached_input_price_per_mtok,
            request_price_usd=model.request_price_usd,
            max_output_tokens=model.max_output_tokens,
            deployment=deployment,
        )
        return _priced(route, self._built_in_price(model.provider, route.upstream_model))

    def _built_in_price(self, provider_name: str, upstream_model: str) -> Price | None:
        return FREE if provider_name in self._free else price_for(upstream_model)

    def resolve(self, name: str) -> Route:
        """The route for `name`; raises ModelNotFound."""
        route = self._routes.get(name)
        if route is not None:
            return route
        target = self._aliases.get(name)
        if target is None:
            for pattern, to in self._rewrites:
                if fnmatch.fnmatchcase(name, pattern):
                    target = to
                    break
        if target is not None:
            route = self._routes.get(target) or self._prefixed(target)
            if route is not None:
                return dataclasses.replace(route, model=name)
        route = self._prefixed(name)
        if route is not None:
            return route
        raise ModelNotFound(
            f"The model '{name}' does not exist or you do not have access to it.",
            param="model",
        )

    def plan(self, name: str) -> RoutePlan:
        """The route plan for a call to `name`; raises ModelNotFound."""
        plan = self._plans.get(name)
        if plan is None:
            route = self.resolve(name)
            view = self.router.view(route)
            if view is None:
                plan = RoutePlan((route,))
            else:
                plan = view.fixed or RoutePlan(view.routes, view)
            if len(self._plans) < MAX_CACHED_PLANS:  # names are the clients' to choose
                self._plans[name] = plan
        return plan

    def _prefixed(self, name: str) -> Route | None:
        provider_name, sep, upstream = name.partition(":")
        if not sep or not upstream:
            return None
        provider = self._providers.get(provider_name)
        if provider is None:
            return None
        route = Route(model=name, provider=provider, upstream_model=upstream)
        return _priced(route, self._built_in_price(provider_name, upstream))

    def table(self) -> list[tuple[str, str, str]]:
        """(name, provider, upstream model) rows, then aliases and rewrites, for display."""
        rows = [
            (name, route.provider.name, route.upstream_model)
            for name, route in self._routes.items()
        ]
        rows += [(alias, "alias", target) for alias, target in self._aliases.items()]
        rows += [(pattern, "rewrite", to) for pattern, to in self._rewrites]
        rows += [(f"{name}:*", name, "*") for name in self._providers]
        return rows

    def model_names(self) -> list[str]:
        return [*self._routes, *self._aliases]
