"""Model groups: a name's deployments, its strategy, retries, breakers and fallback chains.

`Router` holds every group that needs routing (several deployments, or anything under
`routing:` naming it); a plain one-deployment group stays a plain route, so it costs
nothing on the fast path. `GroupView` is a group as a client named it (an alias keeps its
own name on every route) and orders the deployments per call.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relaygate.config import ModelSettings
from relaygate.routing.breaker import Breaker
from relaygate.routing.deployments import Deployment, DeploymentLimits
from relaygate.routing.rules import Rules
from relaygate.routing.settings import (
    BreakerSettings,
    FailureClass,
    RetrySettings,
    RoutingSettings,
    Strategy,
)
from relaygate.routing.strategies import Picker, Rotation, picker_for
from relaygate.tokens.estimate import estimate_prompt

if TYPE_CHECKING:
    from relaygate.pipeline.call import Call
    from relaygate.routing.registry import Route

FailureListener = Callable[[Deployment, FailureClass], None]
DEFAULT_OUTPUT_TOKENS = 1024  # the `cost` strategy's guess when a call sets no max_tokens


class Group:
    """One model name's deployments and how to route among them."""

    def __init__(
        self,
        name: str,
        deployments: Sequence[Deployment],
        picker: Picker,
        strategy: Strategy,
        retry: RetrySettings,
        fallbacks: Sequence[str] = (),
        context_window_fallbacks: Sequence[str] = (),
        content_policy_fallbacks: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.deployments = tuple(deployments)
        self.by_id = {deployment.id: deployment for deployment in deployments}
        self.picker = picker
        self.rotation = picker if isinstance(picker, Rotation) else None
        self.strategy = strategy
        self.retry = retry
        retries = retry.count if retry.count is not None else len(deployments) - 1
        self.attempts = 1 + retries  # upstream calls within this group, at most
        self.fallbacks = tuple(fallbacks)
        self.context_window_fallbacks = tuple(context_window_fallbacks)
        self.content_policy_fallbacks = tuple(content_policy_fallbacks)
        self.has_fallbacks = bool(self.fallbacks or self.context_window_fallbacks
                                  or self.content_policy_fallbacks)


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


@dataclass(slots=True, eq=False)
class GroupView:
    """A group under the name the client used: its routes, and the router for fallbacks."""

    group: Group
    routes: tuple[Route, ...]  # in the group's deployment order
    router: Router
    # a group of one, or a rotating strategy's: the plan for each first deployment, built once
    rotations: tuple[RoutePlan, ...] = ()
    # a group of one: its only plan, the same for every call (the route step keeps it)
    fixed: RoutePlan | None = None

    def __post_init__(self) -> None:
        routes = self.routes
        if len(routes) == 1:
            self.fixed = RoutePlan(routes, self)
            self.rotations = (self.fixed,)
        elif self.group.rotation is not None:
            count = len(routes)
            self.rotations = tuple(
                RoutePlan(tuple(routes[(first + step) % count] for step in range(count)), self)
                for first in range(count)
            )

    def plan(self, call: Call) -> RoutePlan:
        """The plan for `call`: the routes in the order the group's strategy prefers."""
        rotations = self.rotations
        if len(rotations) == 1:
            return rotations[0]
        rotation = self.group.rotation
        if rotation is not None:
            return rotations[rotation.first(self.group.deployments)]
        indexes = self.group.picker.order(self.group.deployments, lambda: _tokens(call))
        routes = self.routes
        return RoutePlan(tuple(routes[index] for index in indexes), self)

    def order(self, call: Call) -> tuple[Route, ...]:
        """The routes in the order the group's strategy prefers for `call`."""
        return self.plan(call).candidates

    def deployment(self, route: Route) -> Deployment:
        assert route.deployment is not None
        return self.group.by_id[route.deployment]


class Router:
    """Every routed group, by name, and each deployment by id."""

    def __init__(
        self, models: Sequence[ModelSettings], routes: Sequence[Route], routing: RoutingSettings
    ) -> None:
        self.settings = routing
        self.rules = Rules(routing.rules)
        self.failure_listener: FailureListener | None = None  # the routing metrics
        self.groups: dict[str, Group] = {}
        self.deployments: dict[str, Deployment] = {}
        self._views: dict[tuple[str, str], GroupView] = {}
        self._targets = {
            target
            for chains in (routing.fallbacks, routing.context_window_fallbacks,
                           routing.content_policy_fallbacks)
            for chain in chains.values()
            for target in chain
        }
        members: dict[str, list[tuple[ModelSettings, Route]]] = {}
        for model, route in zip(models, routes, strict=True):
            members.setdefault(model.name, []).append((model, route))
        self.group_names = frozenset(members)
        for name, entries in members.items():
            if self._routed(name, entries):
                self.groups[name] = self._group(name, entries)
        self.all_routes = {route.deployment: route for route in routes if route.deployment}

    def _routed(self, name: str, entries: list[tuple[ModelSettings, Route]]) -> bool:
        routing = self.settings
        default = routing.default
        return (
            len(entries) > 1
            or routing.configured(name)
            or name in self._targets
            or any(model.timeout is not None for model, _ in entries)
            or (default.retries is not None and bool(default.retries.count))
            or (routing.health_checks.interval_seconds > 0
                and (routing.health_checks.models is None or name in routing.health_checks.models))
        )

    def _group(self, name: str, entries: list[tuple[ModelSettings, Route]]) -> Group:
        settings = self.settings.group(name)
        breaker_settings = settings.breaker or BreakerSettings()
        deployments = []
        for model, route in entries:
            assert route.deployment is not None
            limits = model.limits
            deployment = Deployment(
                route.deployment,
                name,
                route,
                Breaker(breaker_settings),
                weight=model.weight,
                tags=frozenset(model.tags),
                limits=DeploymentLimits(limits.rpm, limits.tpm) if limits is not None else None,
                timeouts=model.timeout,
            )
            deployments.append(deployment)
            self.deployments[deployment.id] = deployment
        strategy = settings.strategy or Strategy.WEIGHTED
        return Group(
            name,
            deployments,
            picker_for(strategy, settings.exploration),
            strategy,
            settings.retries or RetrySettings(),
            self.settings.fallbacks.get(name, ()),
            self.settings.context_window_fallbacks.get(name, ()),
            self.settings.content_policy_fallbacks.get(name, ()),
        )

    def view(self, route: Route) -> GroupView | None:
        """The routed group of `route` under `route.model`, or None for a plain route."""
        if route.deployment is None:
            return None
        deployment = self.deployments.get(route.deployment)
        if deployment is None:
            return None
        return self.view_of(deployment.group, route.model)

    def view_of(self, group_name: str, as_name: str) -> GroupView | None:
        """Group `group_name` as the client called it (`as_name`), or None when not routed."""
        key = (group_name, as_name)
        view = self._views.get(key)
        if view is None:
            group = self.groups.get(group_name)
            if group is None:
                return None
            routes = tuple(
                item.route if item.route.model == as_name
                else dataclasses.replace(item.route, model=as_name)
                for item in group.deployments
            )
            view = GroupView(group, routes, self)
            if len(self._views) < 4096:
                self._views[key] = view
        return view

    def breaker_states(self) -> list[dict[str, object]]:
        """Each deployment's breaker, for /healthz."""
        now = time.monotonic()
        return [
            {
                "deployment": deployment.id,
                "model": deployment.group,
                "state": deployment.state(now).name.lower(),
                "open_for_s": round(deployment.breaker.remaining(now), 3),
                "in_flight": deployment.in_flight,
            }
            for deployment in self.deployments.values()
        ]

    def describe(self) -> list[str]:
        """One line per routed group, for `config check`."""
        lines = []
        for group in self.groups.values():
            members = ", ".join(
                f"{item.id} (weight {item.weight:g})" if group.strategy is Strategy.WEIGHTED
                else item.id
                for item in group.deployments
            )
            line = (f"group {group.name}: {group.strategy.value}, up to {group.attempts} "
                    f"attempt(s); deployments: {members}")
            for label, chain in (("fallbacks", group.fallbacks),
                                 ("context window fallbacks", group.context_window_fallbacks),
                                 ("content policy fallbacks", group.content_policy_fallbacks)):
                if chain:
                    line += f"; {label}: {' -> '.join(chain)}"
            lines.append(line)
        return lines


def _tokens(call: Call) -> tuple[int, int]:
    if call.task is not None:  # embeddings, images
        return call.task.input_tokens(call.model), call.task.output_tokens
    model_call = call.canonical()
    input_tokens = estimate_prompt(model_call.messages, model_call.tools, call.model)
    return input_tokens, model_call.max_tokens or DEFAULT_OUTPUT_TOKENS

