"""What routing costs on the fast path: one gateway per scenario, same run.

    .venv/bin/python bench/routing.py [--repeat 3] [--seconds 3]

Scenarios (each a fresh `relaygate serve` pinned to one core, the lean upstream, wrk at
c=1 and c=50 on the non-streaming relayed chat call):

- `plain route`: one deployment, nothing under `routing:` (the baseline: today's route);
- `one deployment, routed`: the same with `retries.count: 2` (a breaker, the attempts loop);
- `two deployments, weighted`: two providers on the same upstream, weights 1 and 3;
- `two deployments, round_robin`.

Issue 15 asks ≤ 3 % of c=50 RPS for a single-deployment group and ≤ 5 % for a
two-deployment weighted group, against the plain route."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from control_plane import Figures
from loadgen import ensure_wrk, run_wrk, write_script
from run import CLIENT_CPU, MESSAGES, RESULTS, free_port, start_gateway, start_upstream, stop


def scenarios(upstream: int) -> dict[str, dict[str, object]]:
    def provider() -> dict[str, object]:
        return {"type": "openai", "base_url": f"http://127.0.0.1:{upstream}/v1",
                "api_key": "sk-bench"}

    two = {
        "providers": {"up": provider(), "up2": provider()},
        "models": [{"name": "bench", "provider": "up", "model": "bench-model", "weight": 1},
                   {"name": "bench", "provider": "up2", "model": "bench-model", "weight": 3}],
    }
    return {
        "plain route": {},
        "one deployment, routed": {"routing": {"models": {"bench": {"retries": {"count": 2}}}}},
        "two deployments, weighted": two,
        "two deployments, round_robin": {
            **two, "routing": {"models": {"bench": {"strategy": "round_robin"}}},
        },
    }


def measure(wrk: str, workdir: Path, name: str, extra: dict[str, object], upstream: int,
            seconds: int) -> Figures:
    slug = "".join(char if char.isalnum() else "-" for char in name)
    gateway, port, _ = start_gateway(workdir, slug, upstream, True, extra=extra)
    try:
        body = json.dumps({"model": "bench", "messages": MESSAGES})
        script = write_script(RESULTS, f"routing-{slug}", body)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        run_wrk(wrk, url, script, 50, 1, CLIENT_CPU)  # warm-up
        figures = Figures()
        figures.c1.append(run_wrk(wrk, url, script, 1, seconds, CLIENT_CPU))
        figures.c50.append(run_wrk(wrk, url, script, 50, seconds, CLIENT_CPU))
        for load in (*figures.c1, *figures.c50):
            if load.errors:
                print(f"bench: {name}: {load.errors} failed requests", flush=True)
        return figures
    finally:
        stop(gateway)


def report(results: dict[str, Figures]) -> str:
    baseline = results["plain route"]
    base_rps = max(run.rps for run in baseline.c50)
    base_p50 = min(run.p50_ms for run in baseline.c1)
    lines = ["| scenario | RPS c=50 | vs plain route | p50 c=1 (ms) | added p50 (ms) |",
             "|---|---|---|---|---|"]
    for name, figures in results.items():
        rps = max(run.rps for run in figures.c50)
        p50 = min(run.p50_ms for run in figures.c1)
        lines.append(f"| {name} | {rps:,.0f} | {rps / base_rps * 100:.1f} % | {p50:.3f} | "
                     f"{p50 - base_p50:+.3f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; best of them is kept")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    upstream_port = free_port()
    upstream = start_upstream(upstream_port)
    results: dict[str, Figures] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="relaygate-routing-") as workdir:
            for round_number in range(1, args.repeat + 1):
                for name, extra in scenarios(upstream_port).items():
                    print(f"bench: round {round_number}/{args.repeat}: {name}…", flush=True)
                    figures = measure(wrk, Path(workdir), name, extra, upstream_port,
                                      args.seconds)
                    total = results.setdefault(name, Figures())
                    total.c1 += figures.c1
                    total.c50 += figures.c50
    finally:
        stop(upstream)
    rendered = report(results)
    print("\n" + rendered)
    (RESULTS / "routing.md").write_text(rendered + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
