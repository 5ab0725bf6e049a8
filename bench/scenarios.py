"""What a feature costs on the fast path: one gateway per scenario, in the same run.

    .venv/bin/python bench/scenarios.py control [--repeat 3] [--seconds 3] [--redis URL]
    .venv/bin/python bench/scenarios.py routing [--repeat 3] [--seconds 3]
    .venv/bin/python bench/scenarios.py realistic [--repeat 3] [--seconds 3]   (bench/run.py too)
    .venv/bin/python bench/scenarios.py embeddings [--repeat 3] [--seconds 3]
    .venv/bin/python bench/scenarios.py guardrails [--repeat 3] [--seconds 3]
    .venv/bin/python bench/scenarios.py tracing [--repeat 3] [--seconds 3] [--against REF]
    .venv/bin/python bench/scenarios.py cache [--repeat 3] [--seconds 3]

Each scenario is a fresh `relaygate serve` pinned to one core in front of the lean
upstream, driven by wrk at c=1 and c=50 on the non-streaming relayed chat call; the
table gives each one's c=50 RPS and c=1 p50 against the set's first scenario, and the
gateway's CPU time per request at c=50 (from /proc: other load on the machine moves the
RPS columns far more than this one, so on a busy machine compare by it).

`control` (issues 13 and 14: ≥ 85 % and ≤ +0.1 ms for a database key with the ledger;
≥ 95 % for an in-process limit; ≥ 85 % and ≤ +0.15 ms for Redis limits):
- `yaml key, no ledger`: a key from the config file, `ledger.enabled: false`;
- `database key + ledger`: the admin API on, a key created through it (served from the
  in-process key cache), every call written to the usage ledger (SQLite);
- `yaml key + in-process limit`, `yaml key + redis limit`: a generous rpm/tpm limit on the
  key (never reached: the cost of counting), in process or in Redis;
- `… rpm only`: the same with only `rpm` (no token count, so the body is not decoded).

`guardrails` (issue 16: ≥ 70 % and ≤ +0.5 ms; an output stream guard ≤ +1 ms to the first
token), a 1 KB prompt with nothing to find:
- `1 KB prompt, no guard`;
- `1 KB prompt, pii + secrets on input`: both guards, `action: block`, on every call (the
  call is decoded and scanned, the bytes still relayed);
- `1 KB prompt, secrets on output`: a streamed answer through the rolling window (the call
  translated). The second table gives the median time to the first `data:` line of a
  streamed call (sequential, bench/probes.py) for the first and this one.

`routing` (issue 15: ≤ 3 % for a single-deployment group, ≤ 5 % for two weighted):
- `plain route`: one deployment, nothing under `routing:`;
- `one deployment, routed`: the same with `retries.count: 2` (a breaker, the attempts loop);
- `two deployments, weighted` (weights 1 and 3), `two deployments, round_robin`.

`realistic` (issue 22: ≥ 75 % of the bare fast path, same run; `bench/run.py` runs it too):
- `bare fast path`: a yaml key, no ledger, one deployment;
- `realistic control plane`: a database-backed key (admin API, key cache) with an
  in-process rate limit and a budget (generous: the cost of counting, never reached),
  the ledger on, a two-deployment weighted group, metrics (always on).
`embeddings` (issue 20: embeddings relayed keep ≥ 90 % of chat's c=50 RPS):
- `chat, relayed`: the usual call; `embeddings, relayed`: `POST /v1/embeddings` (one
  input, base64) relayed as bytes to the same upstream, usage read from the reply.
`cache` (issue 17: a hit ≥ 2× the fast path's c=50 RPS; a miss ≤ +0.1 ms p50 in process,
≤ +0.3 ms in Redis), a temperature-0 chat call:
- `cache off`: the relayed call, each body different;
- `in process` / `redis`, `every call a hit`: one body, answered from the cache (after the
  first); `every call a miss`: each body different (a lookup, the call translated, the
  answer kept).
`tracing` (issue 19: off costs 0 %, `sample_ratio: 0.1` ≤ 5 %, 1.0 ≤ 20 % of c=50 RPS):
- `tracing off`: the default (no OpenTelemetry import at all);
- `tracing on, sample_ratio 0.1` / `1.0`: OTLP/HTTP to a collector that discards
  (bench/otlp_sink.py), a server span, a span per step, a client span per attempt.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from loadgen import NONCE, LoadResult, ensure_wrk, run_wrk, write_script
from otlp_sink import start_sink
from probes import cpu_seconds, stream_ttfb_ms
from run import (
    CLIENT_CPU,
    MESSAGES,
    RESULTS,
    build_of,
    free_port,
    start_gateway,
    start_upstream,
    stop,
)

ADMIN_KEY = "bench-admin-key-0123456789"
YAML_KEY = "bench-key"  # what loadgen.write_script sends by default
LIMIT = {"rpm": 100_000_000, "tpm": 10_000_000_000}


@dataclass(frozen=True)
class Scenario:
    name: str
    settings: dict[str, Any]
    database_key: bool = False  # create the key through the admin API
    key_scopes: dict[str, Any] = field(default_factory=dict)  # its limits, budget
    path: str = "/v1/chat/completions"
    body: dict[str, Any] | None = None  # default: the chat call on MESSAGES
    messages: list[dict[str, str]] | None = None  # default: run.MESSAGES
    varying: bool = False  # each request's body differs (NONCE in `body`): cache misses
    stream_ttfb: bool = False  # also the median time to a streamed call's first byte


@dataclass
class Figures:
    c1: list[LoadResult] = field(default_factory=list)
    c50: list[LoadResult] = field(default_factory=list)
    ttfb_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # gateway CPU per request at c=50


def control(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    no_ledger = {"ledger": {"enabled": False}}
    limited = {"keys": [{"key": YAML_KEY, "tenant": "bench", "limits": LIMIT}], **no_ledger}
    rpm_only = {"keys": [{"key": YAML_KEY, "tenant": "bench", "limits": {"rpm": LIMIT["rpm"]}}],
                **no_ledger}

    def in_redis(settings: dict[str, Any], name: str) -> dict[str, Any]:
        return {**settings,
                "storage": {"database_url": f"sqlite+aiosqlite:///{workdir}/{name}.db",
                            "redis_url": redis_url},
                "limits": {"redis_prefix": f"bench:{time.time_ns()}:"}}

    return [
        Scenario("yaml key, no ledger",
                 {"keys": [{"key": YAML_KEY, "tenant": "bench"}], **no_ledger}),
        Scenario("database key + ledger", {"admin": {"key": ADMIN_KEY}}, database_key=True),
        Scenario("yaml key + in-process limit", limited),
        Scenario("yaml key + redis limit", in_redis(limited, "redis")),
        Scenario("yaml key + in-process rpm only", rpm_only),
        Scenario("yaml key + redis rpm only", in_redis(rpm_only, "redis-rpm")),
    ]


def routing(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    provider = {"type": "openai", "base_url": f"http://127.0.0.1:{upstream}/v1",
                "api_key": "sk-bench"}
    two = {
        "providers": {"up": provider, "up2": provider},
        "models": [{"name": "bench", "provider": "up", "model": "bench-model", "weight": 1},
                   {"name": "bench", "provider": "up2", "model": "bench-model", "weight": 3}],
    }
    return [
        Scenario("plain route", {}),
        Scenario("one deployment, routed",
                 {"routing": {"models": {"bench": {"retries": {"count": 2}}}}}),
        Scenario("two deployments, weighted", two),
        Scenario("two deployments, round_robin",
                 {**two, "routing": {"models": {"bench": {"strategy": "round_robin"}}}}),
    ]


def embeddings(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    keyed = {"keys": [{"key": YAML_KEY, "tenant": "bench"}], "ledger": {"enabled": False}}
    body = {"model": "bench", "input": "The quick brown fox jumps over the lazy dog.",
            "encoding_format": "base64"}
    return [
        Scenario("chat, relayed", keyed),
        Scenario("embeddings, relayed", keyed, path="/v1/embeddings", body=body),
    ]


KILOBYTE_PROMPT = (
    "Please summarise the following notes for the weekly engineering update. The team "
    "finished the migration of the billing service to the new queue, which reduced the "
    "median processing delay from four seconds to under one. Two incidents were opened "
    "during the week: one about slow dashboard loads after the cache was resized, and one "
    "about a flaky integration test in the search indexer. Both were closed with follow-up "
    "tasks. Next week the focus moves to the reporting pipeline: the nightly export has to "
    "handle three times the current volume before the end of the quarter, and the design "
    "review is scheduled for Thursday afternoon. Hiring continues for two backend roles and "
    "one designer; interviews are spread across the week so that nobody loses more than one "
    "afternoon to them. Remember that the office is closed on Friday for the building "
    "maintenance, so plan releases for Wednesday at the latest and keep the on-call rota as "
    "it is. Finally, thank everyone who helped with the documentation sprint last month."
)
def tracing(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    sink = start_sink()

    def traced(ratio: float) -> dict[str, Any]:
        return {"telemetry": {"traces": {"exporter": "otlp_http", "endpoint": sink,
                                         "sample_ratio": ratio}}}

    return [
        Scenario("tracing off", {}),
        Scenario("tracing on, sample_ratio 0.1", traced(0.1)),
        Scenario("tracing on, sample_ratio 1.0", traced(1.0)),
    ]


def guardrails(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    messages = [{"role": "user", "content": KILOBYTE_PROMPT}]
    keys = {"keys": [{"key": YAML_KEY, "tenant": "bench"}], "ledger": {"enabled": False}}
    guards = {
        "guardrails": {"pii": {"type": "pii", "on": ["input"], "action": "block"},
                       "secrets": {"type": "secrets", "on": ["input"], "action": "block"}},
        "guardrail_policy": {"default": ["pii", "secrets"]},
    }
    output = {
        "guardrails": {"out": {"type": "secrets", "on": ["output"], "action": "block"}},
        "guardrail_policy": {"default": ["out"]},
    }
    return [
        Scenario("1 KB prompt, no guard", keys, messages=messages, stream_ttfb=True),
        Scenario("1 KB prompt, pii + secrets on input", {**keys, **guards}, messages=messages),
        Scenario("1 KB prompt, secrets on output", {**keys, **output}, messages=messages,
                 stream_ttfb=True),
    ]


REALISTIC_TARGET = 0.75  # of the bare fast path's c=50 RPS


def realistic(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    provider = {"type": "openai", "base_url": f"http://127.0.0.1:{upstream}/v1",
                "api_key": "sk-bench"}
    scopes = {"limits": LIMIT, "budget": {"max_usd": 1_000_000, "max_tokens": 10**12}}
    return [
        Scenario("bare fast path",
                 {"keys": [{"key": YAML_KEY, "tenant": "bench"}], "ledger": {"enabled": False}}),
        Scenario("realistic control plane", {
            "admin": {"key": ADMIN_KEY},
            "providers": {"up": provider, "up2": provider},
            "models": [
                {"name": "bench", "provider": "up", "model": "bench-model", "weight": 1},
                {"name": "bench", "provider": "up2", "model": "bench-model", "weight": 3}],
        }, database_key=True, key_scopes=scopes),
    ]


def cache(upstream: int, redis_url: str, workdir: Path) -> list[Scenario]:
    keyed = {"keys": [{"key": YAML_KEY, "tenant": "bench"}], "ledger": {"enabled": False}}
    body = {"model": "bench", "temperature": 0,
            "messages": [{"role": "user", "content": f"Say hello to caller {NONCE}."}]}
    on = {**keyed, "cache": {"enabled": True}}
    redis = {**keyed, "cache": {"enabled": True, "redis_prefix": f"bench:{time.time_ns()}:"},
             "storage": {"database_url": f"sqlite+aiosqlite:///{workdir}/cache.db",
                         "redis_url": redis_url}}
    return [
        Scenario("cache off", keyed, body=body, varying=True),
        Scenario("in process, every call a hit", on, body=body),
        Scenario("in process, every call a miss", on, body=body, varying=True),
        Scenario("redis, every call a hit", redis, body=body),
        Scenario("redis, every call a miss", redis, body=body, varying=True),
    ]


SETS = {"cache": cache, "control": control, "routing": routing, "realistic": realistic,
        "embeddings": embeddings, "guardrails": guardrails, "tracing": tracing}


def _database_key(port: int, scopes: dict[str, Any] | None = None) -> str:
    admin = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                         headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    tenant = f"bench-{time.monotonic_ns()}"
    admin.post("/admin/tenants", json={"name": tenant}).raise_for_status()
    created = admin.post("/admin/keys", json={"tenant": tenant, **(scopes or {})})
    created.raise_for_status()
    secret: str = created.json()["key"]
    return secret


def measure(wrk: str, workdir: Path, scenario: Scenario, upstream: int, seconds: int,
            src: Path | None = None) -> Figures:
    slug = "".join(char if char.isalnum() else "-" for char in scenario.name)
    gateway, port, _ = start_gateway(workdir, slug, upstream, True, src, extra=scenario.settings)
    try:
        key = _database_key(port, scenario.key_scopes) if scenario.database_key else YAML_KEY
        body = json.dumps(scenario.body or {"model": "bench",
                                            "messages": scenario.messages or MESSAGES})
        script = write_script(RESULTS, f"scenario-{slug}", body, key, scenario.varying)
        url = f"http://127.0.0.1:{port}{scenario.path}"
        run_wrk(wrk, url, script, 50, 1, CLIENT_CPU)  # warm-up
        c1 = run_wrk(wrk, url, script, 1, seconds, CLIENT_CPU)
        before = cpu_seconds(gateway.pid)  # load on the machine moves RPS, hardly this
        c50 = run_wrk(wrk, url, script, 50, seconds, CLIENT_CPU)
        cpu_ms = (cpu_seconds(gateway.pid) - before) * 1000 / max(c50.requests, 1)
        figures = Figures([c1], [c50], cpu_ms=[cpu_ms])
        if scenario.stream_ttfb:
            stream_body = {"model": "bench", "messages": scenario.messages or MESSAGES,
                           "stream": True}
            figures.ttfb_ms.append(stream_ttfb_ms(port, json.dumps(stream_body).encode()))
        for load in (*figures.c1, *figures.c50):
            if load.errors:
                print(f"bench: {scenario.name}: {load.errors} failed requests", flush=True)
        return figures
    finally:
        stop(gateway)


def report(results: dict[str, Figures]) -> str:
    baseline_name, baseline = next(iter(results.items()))
    base_rps = max(run.rps for run in baseline.c50)
    base_p50 = min(run.p50_ms for run in baseline.c1)
    base_cpu = min(baseline.cpu_ms)
    lines = [f"| scenario | RPS c=50 | vs {baseline_name} | p50 c=1 (ms) | added p50 (ms) "
             f"| CPU/req c=50 (ms) | {baseline_name}'s CPU over it |",
             "|---|---|---|---|---|---|---|"]
    for name, figures in results.items():
        rps = max(run.rps for run in figures.c50)
        p50 = min(run.p50_ms for run in figures.c1)
        cpu = min(figures.cpu_ms)
        lines.append(f"| {name} | {rps:,.0f} | {rps / base_rps * 100:.1f} % | {p50:.3f} | "
                     f"{p50 - base_p50:+.3f} | {cpu:.3f} | {base_cpu / cpu * 100:.1f} % |")
    streamed = {name: min(figures.ttfb_ms) for name, figures in results.items()
                if figures.ttfb_ms}
    if streamed:
        base_ttfb = next(iter(streamed.values()))
        lines += ["", "| scenario | stream TTFB p50 (ms) | added (ms) |", "|---|---|---|"]
        lines += [f"| {name} | {ttfb:.3f} | {ttfb - base_ttfb:+.3f} |"
                  for name, ttfb in streamed.items()]
    return "\n".join(lines)


def run_set(wrk: str, name: str, upstream_port: int, redis_url: str, repeat: int,
            seconds: int, builds: list[tuple[str, Path | None]] | None = None,
            ) -> dict[str, dict[str, Figures]]:
    """Every scenario of the set `name`, `repeat` rounds, against a running upstream; with
    several builds (name, src), each round runs each build's scenarios one after the other."""
    results: dict[str, dict[str, Figures]] = {}
    with tempfile.TemporaryDirectory(prefix="relaygate-scenarios-") as folder:
        workdir = Path(folder)
        for round_number in range(1, repeat + 1):
            for build, src in builds or [("this tree", None)]:
                for scenario in SETS[name](upstream_port, redis_url, workdir):
                    print(f"bench: round {round_number}/{repeat}: {build}: {scenario.name}…",
                          flush=True)
                    figures = measure(wrk, workdir, scenario, upstream_port, seconds, src)
                    total = results.setdefault(build, {}).setdefault(scenario.name, Figures())
                    total.c1 += figures.c1
                    total.c50 += figures.c50
                    total.ttfb_ms += figures.ttfb_ms
                    total.cpu_ms += figures.cpu_ms
    return results


def realistic_verdict(results: dict[str, Figures]) -> str:
    """The realistic control plane's share of the bare fast path, against the target."""
    bare, full = (max(run.rps for run in figures.c50) for figures in results.values())
    share = full / bare if bare else 0.0
    bare_cpu, full_cpu = (min(figures.cpu_ms) for figures in results.values())
    mark = "✓" if share >= REALISTIC_TARGET else "✗"
    return (f"**realistic control plane: {share * 100:.1f} % of the bare fast path** {mark} "
            f"(target ≥ {REALISTIC_TARGET * 100:.0f} %); by CPU per request "
            f"{bare_cpu / full_cpu * 100:.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best is kept")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--against", metavar="REF",
                        help="also run REF's gateways (a temporary worktree), round by round")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    upstream_port = free_port()
    upstream = start_upstream(upstream_port)
    try:
        with build_of(args.against) as ref_src:
            builds: list[tuple[str, Path | None]] = [("this tree", None)]
            if ref_src is not None:
                builds.insert(0, (str(args.against), ref_src))
            by_build = run_set(wrk, args.set, upstream_port, args.redis, args.repeat,
                               args.seconds, builds)
    finally:
        stop(upstream)
    parts = []
    for build, results in by_build.items():
        table = report(results)
        if args.set == "realistic":
            table += "\n\n" + realistic_verdict(results)
        parts.append(f"{build}:\n\n{table}" if len(by_build) > 1 else table)
    rendered = "\n\n".join(parts)
    print("\n" + rendered)
    (RESULTS / f"scenarios-{args.set}.md").write_text(rendered + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
