"""Prometheus metrics on a registry owned by the Gateway (never the process-global one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from relaygate.observability.cells import CellsCollector, CounterCells, HistogramCells
from relaygate.pipeline.outcome import Outcome

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SPEED_BUCKETS = (1, 5, 10, 20, 40, 60, 80, 100, 150, 200, 300, 500, 1000, 5000)  # tokens/s


class GatewayMetrics:
    """Upstream calls, their latency and tokens by model, provider and tenant: a sink of
    the pipeline's outcome events, so every path is counted once per upstream call."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # the per-call families: plain cells, read at the scrape (observability/cells.py)
        self.requests = CounterCells(
            "relaygate_requests", "Upstream model calls, by outcome (499: the client went away).",
            ["model", "provider", "tenant", "status"],
        )
        self.latency = HistogramCells(
            "relaygate_request_seconds", "Time from an upstream call's start to its end.",
            ["provider"], LATENCY_BUCKETS,
        )
        self.tokens = CounterCells(
            "relaygate_tokens", "Tokens used, by direction (input/output).",
            ["model", "provider", "tenant", "direction"],
        )
        self.errors = CounterCells(
            "relaygate_errors", "Failed upstream calls per deployment, by error class.",
            ["model", "deployment", "class"],
        )
        self.ttft = HistogramCells(
            "relaygate_time_to_first_token_seconds",
            "Streams: from an upstream call's start to its first item, per deployment.",
            ["model", "deployment"], LATENCY_BUCKETS,
        )
        self.deployment_latency = HistogramCells(
            "relaygate_upstream_seconds", "An upstream call's whole time, per deployment.",
            ["model", "deployment"], LATENCY_BUCKETS,
        )
        self.speed = HistogramCells(
            "relaygate_output_tokens_per_second",
            "Output tokens per second of generation (after the first token, for streams).",
            ["model", "deployment"], SPEED_BUCKETS,
        )
        self.cost = CounterCells(
            "relaygate_cost_usd", "US dollars spent, at the served route's prices.",
            ["model", "tenant"],
        )
        self.registry.register(CellsCollector([
            self.requests, self.latency, self.tokens, self.errors, self.ttft,
            self.deployment_latency, self.speed, self.cost,
        ]))
        self.cache_hits = Counter(
            "relaygate_cache_hits", "Calls answered from the gateway's response cache.",
            ["model", "kind"], registry=self.registry,
        )
        self.cache_misses = Counter(  # recorded by the cache step
            "relaygate_cache_misses", "Cacheable calls the response cache could not answer.",
            ["model"], registry=self.registry,
        )
        self.cache_saved_tokens = Counter(
            "relaygate_cache_saved_tokens", "Tokens the cache hits' original calls used.",
            ["model"], registry=self.registry,
        )
        self.cache_saved_usd = Counter(
            "relaygate_cache_saved_usd", "What the cache hits' original calls cost.",
            ["model", "tenant"], registry=self.registry,
        )
        self.cache_stored_bytes = Counter(
            "relaygate_cache_stored_bytes", "Bytes of answers put in the response cache.",
            registry=self.registry,
        )
        self.cache_errors = Counter(
            "relaygate_cache_store_errors", "Response cache lookups or stores that failed "
            "(the call went on without the cache).", registry=self.registry,
        )
        self.guard_hits = Counter(  # recorded by guardrails/metrics.py
            "relaygate_guardrail_hits", "Guardrail hits (the kind found, never the text).",
            ["guard", "action", "where", "entity", "tenant"], registry=self.registry,
        )
        self.budget_rejections = Counter(
            "relaygate_budget_rejections", "Calls refused by a hard budget.",
            ["owner_kind"], registry=self.registry,
        )
        self.background_runs = Counter(
            "relaygate_background_runs", "Background Responses that ended, by final state.",
            ["state"], registry=self.registry,
        )
        self.finished = 0  # outcomes recorded: the in-flight gauge is started - finished

        # each label set's cells, found with one dict lookup per call
        self._children: dict[tuple[str, str, str, int], _Children] = {}
        self._deployments: dict[tuple[str, str], _Deployment] = {}
        self._hit_children: dict[tuple[str, str, str], tuple[Counter, Counter, Counter]] = {}

    def _children_for(self, model: str, provider: str, tenant: str, status: int) -> _Children:
        key = (model, provider, tenant, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = _Children(
                self.requests.cell(model, provider, tenant, str(status)),
                self.latency.cell(provider),
                self.tokens.cell(model, provider, tenant, "input"),
                self.tokens.cell(model, provider, tenant, "output"),
                self.cost.cell(model, tenant),
            )
        return children

    def record(self, outcome: Outcome) -> None:
        """Count one upstream call (the pipeline's outcome sink); a cache hit is not one."""
        if outcome.cache_hit:
            self._record_hit(outcome)
            return
        self.finished += 1
        children = self._children_for(
            outcome.model, outcome.provider, outcome.principal.tenant, outcome.status
        )
        children.requests[0] += 1
        self.latency.observe(children.latency, outcome.latency_s)
        usage = outcome.usage
        if usage is not None:
            children.input_tokens[0] += usage.input_tokens
            children.output_tokens[0] += usage.output_tokens
        deployment = self._deployment_for(outcome)
        self.deployment_latency.observe(deployment.latency, outcome.latency_s)
        if outcome.error is not None:
            self.errors.cell(outcome.model, deployment.name, outcome.error)[0] += 1
        elif usage is not None and usage.output_tokens > 0:
            generating = outcome.latency_s - (outcome.ttft_s or 0.0)
            if generating > 0:
                self.speed.observe(deployment.speed, usage.output_tokens / generating)
        if outcome.ttft_s is not None:
            self.ttft.observe(deployment.ttft, outcome.ttft_s)
        if outcome.cost_usd:
            children.cost[0] += outcome.cost_usd

    def _record_hit(self, outcome: Outcome) -> None:
        kind = "exact" if outcome.cache_score is None else "semantic"
        key = (outcome.model, outcome.principal.tenant, kind)
        children = self._hit_children.get(key)
        if children is None:
            children = self._hit_children[key] = (
                self.cache_hits.labels(outcome.model, kind),
                self.cache_saved_tokens.labels(outcome.model),
                self.cache_saved_usd.labels(outcome.model, outcome.principal.tenant),
            )
        hits, saved_tokens, saved_usd = children
        hits.inc()
        saved_tokens.inc(outcome.saved_tokens)
        if outcome.saved_usd:
            saved_usd.inc(outcome.saved_usd)

    def _deployment_for(self, outcome: Outcome) -> _Deployment:
        name = outcome.deployment or f"{outcome.provider}:{outcome.upstream_model}"
        key = (outcome.model, name)
        found = self._deployments.get(key)
        if found is None:
            found = self._deployments[key] = _Deployment(
                name, self.ttft.cell(*key), self.deployment_latency.cell(*key),
                self.speed.cell(*key),
            )
        return found

    def watch(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A gauge read when /metrics is scraped (in-flight calls, queue depths)."""
        Gauge(name, help_text, registry=self.registry).set_function(read)


@dataclass(frozen=True, slots=True)
class _Children:
    """One (model, provider, tenant, status)'s cells."""

    requests: list[float]
    latency: list[float]
    input_tokens: list[float]
    output_tokens: list[float]
    cost: list[float]


@dataclass(frozen=True, slots=True)
class _Deployment:
    name: str
    ttft: list[float]
    latency: list[float]
    speed: list[float]
