"""Model names → (provider, upstream model), with aliases, rewrites and `provider:model`."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass

from relaygate.config import Settings, deployment_ids
from relaygate.errors import ModelNotFound
from relaygate.providers.base import Provider
from relaygate.routing.groups import GroupView, Router
from relaygate.types import Usage

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
    """US dollars for `usage` at the route's prices; None when no price is configured."""
    if route.input_price_per_mtok is None and route.output_price_per_mtok is None:
        return None
    return (
        usage.input_tokens * (route.input_price_per_mtok or 0.0)
        + usage.output_tokens * (route.output_price_per_mtok or 0.0)
    ) / 1_000_000


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """The candidates for one call, in the order to try them. A plain route has one and no
    `routing`; a group with deployments, retries or fallbacks has its `routing`, which the
    route step orders per call and the dispatch follows attempt by attempt."""

    candidates: tuple[Route, ...]
    routing: GroupView | None = None

    @property
    def first(self) -> Route:
        return self.candidates[0]


class ModelRegistry:
    """Resolves the model name of a request to a Route; routing as data."""

    def __init__(self, settings: Settings, providers: dict[str, Provider]) -> None:
        self._providers = providers
        self._routes: dict[str, Route] = {}  # a group's name → its first deployment
        self._deployments: list[Route] = []
        for model, deployment in zip(settings.models, deployment_ids(settings), strict=True):
            route = Route(
                model=model.name,
                provider=providers[model.provider],
                upstream_model=model.model or model.name,
                context_window=model.context_window,
                input_price_per_mtok=model.input_price_per_mtok,
                output_price_per_mtok=model.output_price_per_mtok,
                cached_input_price_per_mtok=model.cached_input_price_per_mtok,
                request_price_usd=model.request_price_usd,
                max_output_tokens=model.max_output_tokens,
                deployment=deployment,
            )
            self._routes.setdefault(model.name, route)
            self._deployments.append(route)
        self.router = Router(settings.models, self._deployments, settings.routing)
        self._aliases = dict(settings.aliases)
        self._plans: dict[str, RoutePlan] = {}
        self._rewrites = [(rewrite.match, rewrite.to) for rewrite in settings.rewrites]

    @property
    def providers(self) -> dict[str, Provider]:
        return self._providers

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
            plan = RoutePlan((route,)) if view is None else RoutePlan(view.routes, view)
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
        return Route(model=name, provider=provider, upstream_model=upstream)

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
