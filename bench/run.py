"""`make bench`: relaygate against no gateway at all, on one machine, in one run.

Starts the lean upstream (bench/fast_upstream.py) and, one after the other, two gateways
(1 uvicorn worker each, pinned to one core): the byte-relay fast path and the translated
path (`server.fast_path: false`). Drives each with wrk at concurrency 1 and 50, measures
stream time to first byte, CPU time per request, RSS and start-up, prints one table and
writes it to bench/results/latest.md.

`--against REF` builds REF (a commit, branch or tag) in a temporary git worktree and
measures its gateways in the same run, each round one after the other with this tree's,
so the comparison holds on a machine whose speed varies; the table gets a column per
build and the change of each key figure against REF. `--settings JSON` adds top-level
settings to this tree's gateways only (`'{"ledger": {"enabled": false}}'`: the request
path without an on-by-default feature REF did not have).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgen import LoadResult, ensure_wrk, run_wrk, write_script
from probes import cpu_seconds, rss_mib, stream_ttfb_ms, wait_ready

import relaygate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SERVER_CPU = "1"  # the process under test
CLIENT_CPU = "0"  # wrk, the probes and the upstream
MESSAGES = [{"role": "user", "content": "Say something short about foxes."}]


@dataclass
class Measured:
    """Every number of one column of the table."""

    plain_c1: LoadResult | None = None
    plain_c50: LoadResult | None = None
    stream_c1: LoadResult | None = None
    stream_c50: LoadResult | None = None
    ttfb_ms: float = 0.0
    cpu_ms_per_request: float = 0.0
    rss_idle: float | None = None
    rss_after: float = 0.0
    startup_s: float | None = None
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pinned(cpu: str, *command: str) -> list[str]:
    return ["taskset", "-c", cpu, *command]


def start_upstream(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        _pinned(CLIENT_CPU, sys.executable, str(HERE / "fast_upstream.py"), str(port)),
    )
    wait_ready(port, "/ready")
    return process


def start_gateway(
    workdir: Path,
    name: str,
    upstream_port: int,
    fast_path: bool,
    src: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[subprocess.Popen[bytes], int, float]:
    """A gateway process pinned to SERVER_CPU; (process, port, seconds from spawn to ready);
    `extra` adds top-level sections to its config (bench/scenarios.py's settings)."""
    port = free_port()
    config: dict[str, Any] = {
        "server": {"port": port, "fast_path": fast_path, "shutdown_grace_seconds": 1},
        "storage": {"database_url": f"sqlite+aiosqlite:///{workdir / name}.db"},
        "providers": {
            "up": {
                "type": "openai",
                "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                "api_key": "sk-bench",
            }
        },
        "models": [{"name": "bench", "provider": "up", "model": "bench-model"}],
    }
    for section, value in (extra or {}).items():
        merged = section in config and isinstance(value, dict)
        config[section] = {**config[section], **value} if merged else value
    config_path = workdir / f"{name}.yaml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYGATE_")}
    if src is not None:  # another build's sources first on the path
        env["PYTHONPATH"] = str(src)
    log = (RESULTS / f"gateway-{name}.log").open("wb")
    command = [sys.executable, "-m", "relaygate", "serve", "--config", str(config_path)]
    spawned = time.perf_counter()
    process = subprocess.Popen(
        _pinned(SERVER_CPU, *command), stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        wait_ready(port, process=process)
    except RuntimeError as exc:
        raise SystemExit(
            f"bench: the {name} gateway did not start ({exc}); see {log.name}"
        ) from None
    return process, port, time.perf_counter() - spawned


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(wrk: str, port: int, pid: int, seconds: int, scripts: dict[str, Path]) -> Measured:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    result = Measured()
    run_wrk(wrk, url, scripts["plain"], 50, 1, CLIENT_CPU)  # warm-up
    result.plain_c1 = run_wrk(wrk, url, scripts["plain"], 1, seconds, CLIENT_CPU)
    before = cpu_seconds(pid)
    result.plain_c50 = run_wrk(wrk, url, scripts["plain"], 50, seconds, CLIENT_CPU)
    used = cpu_seconds(pid) - before
    result.cpu_ms_per_request = used * 1000 / max(result.plain_c50.requests, 1)
    result.stream_c1 = run_wrk(wrk, url, scripts["stream"], 1, seconds, CLIENT_CPU)
    result.stream_c50 = run_wrk(wrk, url, scripts["stream"], 50, seconds, CLIENT_CPU)
    stream_body = json.dumps({"model": "bench", "messages": MESSAGES, "stream": True}).encode()
    result.ttfb_ms = stream_ttfb_ms(port, stream_body)
    result.rss_after = rss_mib(pid)
    for load in (result.plain_c1, result.plain_c50, result.stream_c1, result.stream_c50):
        if load.errors:
            result.notes.append(f"{load.errors} failed requests in a run")
    return result


def best_of(runs: list[Measured]) -> Measured:
    """Per metric, the best of several runs: interference from other work only ever hurts."""

    def load(pick: Callable[[Measured], LoadResult | None]) -> LoadResult | None:
        found = [value for value in map(pick, runs) if value is not None]
        if not found:
            return None
        return LoadResult(
            rps=max(item.rps for item in found),
            p50_ms=min(item.p50_ms for item in found),
            p99_ms=min(item.p99_ms for item in found),
            requests=max(item.requests for item in found),
            errors=sum(item.errors for item in found),
        )

    def least(values: list[float | None]) -> float | None:
        present = [value for value in values if value is not None]
        return min(present) if present else None

    return Measured(
        plain_c1=load(lambda m: m.plain_c1),
        plain_c50=load(lambda m: m.plain_c50),
        stream_c1=load(lambda m: m.stream_c1),
        stream_c50=load(lambda m: m.stream_c50),
        ttfb_ms=min(m.ttfb_ms for m in runs),
        cpu_ms_per_request=min(m.cpu_ms_per_request for m in runs),
        rss_idle=least([m.rss_idle for m in runs]),
        rss_after=min(m.rss_after for m in runs),
        startup_s=least([m.startup_s for m in runs]),
        notes=[note for m in runs for note in m.notes],
    )


def measure_gateway(
    wrk: str,
    workdir: Path,
    name: str,
    upstream_port: int,
    fast_path: bool,
    seconds: int,
    scripts: dict[str, Path],
    src: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> Measured:
    """Start a fresh gateway (from `src` when given), measure it, stop it."""
    slug = "".join(char if char.isalnum() else "-" for char in name)
    gateway, port, startup = start_gateway(workdir, slug, upstream_port, fast_path, src, extra)
    try:
        time.sleep(0.5)
        idle = rss_mib(gateway.pid)
        measured = measure(wrk, port, gateway.pid, seconds, scripts)
        measured.startup_s, measured.rss_idle = startup, idle
        return measured
    finally:
        stop(gateway)


# --- the table --------------------------------------------------------------------------

Row = tuple[str, Callable[[Measured], float | None], str, Callable[[float], bool] | None, str]


def _rows(direct: Measured) -> list[Row]:
    def load(
        get: Callable[[Measured], LoadResult | None], attr: str
    ) -> Callable[[Measured], float | None]:
        def value(m: Measured) -> float | None:
            found = get(m)
            return None if found is None else float(getattr(found, attr))

        return value

    def added(get: Callable[[Measured], float | None]) -> Callable[[Measured], float | None]:
        def value(m: Measured) -> float | None:
            mine, base = get(m), get(direct)
            return None if m is direct or mine is None or base is None else mine - base

        return value

    p50_c1 = load(lambda m: m.plain_c1, "p50_ms")
    ttfb: Callable[[Measured], float | None] = lambda m: m.ttfb_ms  # noqa: E731
    return [
        ("non-streaming c=1: RPS", load(lambda m: m.plain_c1, "rps"), "{:,.0f}", None, ""),
        ("non-streaming c=1: p50 ms", p50_c1, "{:.3f}", None, ""),
        ("non-streaming c=1: p99 ms", load(lambda m: m.plain_c1, "p99_ms"), "{:.3f}", None, ""),
        ("**added p50 unloaded, ms**", added(p50_c1), "{:+.3f}", lambda v: v <= 0.5, "≤ 0.5"),
        ("**non-streaming c=50: RPS**", load(lambda m: m.plain_c50, "rps"), "{:,.0f}", lambda v: v >= 3000, "≥ 3,000"),
        ("non-streaming c=50: p50 ms", load(lambda m: m.plain_c50, "p50_ms"), "{:.3f}", None, ""),
        ("non-streaming c=50: p99 ms", load(lambda m: m.plain_c50, "p99_ms"), "{:.3f}", None, ""),
        ("streaming c=1: RPS", load(lambda m: m.stream_c1, "rps"), "{:,.0f}", None, ""),
        ("streaming c=50: RPS", load(lambda m: m.stream_c50, "rps"), "{:,.0f}", None, ""),
        ("streaming c=50: p99 ms", load(lambda m: m.stream_c50, "p99_ms"), "{:.3f}", None, ""),
        ("stream TTFB median, ms", ttfb, "{:.3f}", None, ""),
        ("**added stream TTFB, ms**", added(ttfb), "{:+.3f}", lambda v: v <= 0.5, "≤ 0.5"),
        ("CPU ms per request (c=50)", lambda m: m.cpu_ms_per_request, "{:.3f}", None, ""),
        ("**RSS idle, MiB**", lambda m: m.rss_idle, "{:.1f}", lambda v: v <= 80, "≤ 80"),
        ("RSS after load, MiB", lambda m: m.rss_after, "{:.1f}", None, ""),
        ("**start-up (spawn → /readyz 200), s**", lambda m: m.startup_s, "{:.2f}", lambda v: v <= 1.5, "≤ 1.5"),
    ]  # fmt: skip


def table(columns: dict[str, Measured]) -> str:
    direct = columns["direct (no gateway)"]
    names = list(columns)
    lines = [
        "| metric | " + " | ".join(names) + " | target |",
        "|---" * (len(names) + 2) + "|",
    ]
    for label, get, fmt, check, target in _rows(direct):
        cells = []
        for name in names:
            value = get(columns[name])
            if value is None:
                cells.append("–")
                continue
            cell = fmt.format(value)
            if check is not None and columns[name] is not direct:
                cell += " ✓" if check(value) else " ✗"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


@contextmanager
def build_of(ref: str | None) -> Iterator[Path | None]:
    """The `src` folder of `ref` checked out in a temporary worktree (None: this tree)."""
    if ref is None:
        yield None
        return
    root = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=HERE, check=True,
                               capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="relaygate-ref-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), ref], cwd=root,
                       check=True)
        try:
            compileall.compile_dir(tree / "src" / "relaygate", quiet=1)
            yield tree / "src"
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root,
                           check=False)


KEY_FIGURES: list[tuple[str, Callable[[Measured], float | None], bool]] = [
    # (label, value, higher is better)
    ("c=50 RPS", lambda m: m.plain_c50.rps if m.plain_c50 else None, True),
    ("p50 c=1 ms", lambda m: m.plain_c1.p50_ms if m.plain_c1 else None, False),
    ("stream TTFB ms", lambda m: m.ttfb_ms, False),
    ("streaming c=50 RPS", lambda m: m.stream_c50.rps if m.stream_c50 else None, True),
    ("CPU ms per request", lambda m: m.cpu_ms_per_request, False),
]


def comparison(columns: dict[str, Measured], ref: str) -> str:
    """Each key figure of this tree's gateways as a change against REF's, same run."""
    direct = columns["direct (no gateway)"]
    lines = [f"Against {ref} (same run; added latency = gateway minus direct):", ""]
    for kind in ("fast path", "translated"):
        mine, theirs = columns[f"relaygate {kind}"], columns[f"relaygate {kind} @ {ref}"]
        parts = []
        for label, get, _higher in KEY_FIGURES:
            new, old = get(mine), get(theirs)
            if new is None or old is None or not old:
                continue
            parts.append(f"{label} {old:,.3f} → {new:,.3f} ({(new - old) / old:+.1%})")
        for label, get in (("added p50 ms", lambda m: m.plain_c1.p50_ms if m.plain_c1 else None),
                           ("added TTFB ms", lambda m: m.ttfb_ms)):
            new, old, base = get(mine), get(theirs), get(direct)
            if new is not None and old is not None and base is not None:
                parts.append(f"{label} {old - base:+.3f} → {new - base:+.3f}")
        lines.append(f"- {kind}: " + "; ".join(parts))
    return "\n".join(lines)


def add_settings_option(parser: argparse.ArgumentParser) -> None:
    """`--settings JSON`: top-level settings for this tree's gateways only (run.py and
    instructions.py), to compare without a feature REF did not have."""
    parser.add_argument(
        "--settings", default="{}", metavar="JSON",
        help='top-level settings for this tree\'s gateways only, e.g. \'{"ledger": {"enabled": false}}\'',
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; each number is the best of the rounds"
    )
    parser.add_argument(
        "--against", metavar="REF", help="also measure this git commit's gateways, same run"
    )
    add_settings_option(parser)
    parser.add_argument("--no-control-plane", action="store_true",
                        help="skip the realistic control plane vs bare fast path scenario")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    # as an installed wheel would: the gateway starts from compiled bytecode, not from
    # source (this machine sets PYTHONDONTWRITEBYTECODE, so nothing else writes it)
    compileall.compile_dir(Path(relaygate.__file__).parent, quiet=1)
    plain = json.dumps({"model": "bench", "messages": MESSAGES})
    stream = json.dumps({"model": "bench", "messages": MESSAGES, "stream": True})
    scripts = {
        "plain": write_script(RESULTS, "plain", plain),
        "stream": write_script(RESULTS, "stream", stream),
    }
    runs: dict[str, list[Measured]] = {}
    upstream_port = free_port()
    upstream = start_upstream(upstream_port)
    builds: list[tuple[str, Path | None]] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="relaygate-bench-") as workdir,
            build_of(args.against) as ref_src,
        ):
            builds = [("", None)] if ref_src is None else [(f" @ {args.against}", ref_src), ("", None)]
            for round_number in range(1, args.repeat + 1):
                print(
                    f"bench: round {round_number}/{args.repeat}: direct (no gateway)…", flush=True
                )
                # the direct column sends the gateway's model name: the upstream ignores it
                direct = measure(wrk, upstream_port, upstream.pid, args.seconds, scripts)
                runs.setdefault("direct (no gateway)", []).append(direct)
                for name, fast_path in (("fast path", True), ("translated", False)):
                    for suffix, src in builds:  # REF's gateway, then this tree's
                        column = f"relaygate {name}{suffix}"
                        print(f"bench: round {round_number}/{args.repeat}: {column}…", flush=True)
                        runs.setdefault(column, []).append(
                            measure_gateway(
                                wrk,
                                Path(workdir),
                                column,
                                upstream_port,
                                fast_path,
                                args.seconds,
                                scripts,
                                src,
                                json.loads(args.settings) if src is None else None,
                            )
                        )
    finally:
        stop(upstream)
    columns = {name: best_of(measured) for name, measured in runs.items()}
    rendered = table(columns)
    notes = [f"- {name}: {note}" for name, m in columns.items() for note in m.notes]
    header = (
        f"Run {time.strftime('%Y-%m-%d %H:%M:%S %Z')} on {os.cpu_count()} cores; "
        f"gateway pinned to CPU {SERVER_CPU}, wrk + upstream on CPU {CLIENT_CPU}; "
        f"{args.seconds} s per wrk run; TTFB = median of 300 sequential streams; "
        f"best of {args.repeat} round(s) per number.\n"
    )
    report = header + "\n" + rendered + ("\n\n" + "\n".join(notes) if notes else "") + "\n"
    if args.against:
        report += "\n" + comparison(columns, args.against) + "\n"
    if not args.no_control_plane:  # this tree's gateway: realistic control plane vs bare
        subprocess.run([sys.executable, str(HERE / "scenarios.py"), "realistic", "--repeat",
                        str(args.repeat), "--seconds", str(args.seconds)], check=True)
        report += "\n" + (RESULTS / "scenarios-realistic.md").read_text()
    print("\n" + report)
    (RESULTS / "latest.md").write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
