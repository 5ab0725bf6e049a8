"""The route step: the call's model name → its route plan, resolved once per call.

A task rule (`routing.rules`) may send the call to another group or a deployment first; a
routed group's deployments are then put in its strategy's order for this call."""

from __future__ import annotations

import dataclasses

from relaygate.pipeline.call import Answer, Call
from relaygate.pipeline.chain import Next
from relaygate.routing.registry import ModelRegistry, RoutePlan


class RouteStep:
    """Sets `call.plan` (unless the caller pinned one); raises ModelNotFound."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        rules = registry.router.rules
        self._rules = rules if rules else None  # checked per call: None is the cheap test

    async def __call__(self, call: Call, next: Next) -> Answer:
        if call.plan is None:
            plan = self._plan_by_rules(call) if self._rules is not None else None
            if plan is None:
                plan = self._registry.plan(call.model)
            routing = plan.routing
            if routing is not None and plan is not routing.fixed:
                plan = routing.plan(call)
            call.plan = plan
        elif call.plan.routing is not None and call.plan.candidates is call.plan.routing.routes:
            call.plan = call.plan.routing.plan(call)  # pinned group
        return await next(call)

    def _plan_by_rules(self, call: Call) -> RoutePlan | None:
        """The plan of the first rule that matches: a group's, or one deployment's alone."""
        assert self._rules is not None
        target = self._rules.target(call)
        if target is None:
            return None
        router = self._registry.router
        if target not in router.group_names:  # a deployment id: that deployment alone
            route = router.all_routes[target]
            return RoutePlan((dataclasses.replace(route, model=call.model),))
        plan = self._registry.plan(target)
        view = plan.routing
        if view is None:
            return RoutePlan((dataclasses.replace(plan.first, model=call.model),))
        view = router.view_of(view.group.name, call.model) or view
        return RoutePlan(view.routes, view)
