"""Profile the gateway's hot path: the app in this process under cProfile, wrk driving it.

Run: python bench/profile_gateway.py [--translated] [--stream] [--seconds 5] [--settings JSON]
     [--traces RATIO] [--calls repeated|distinct]
(`--settings`: top-level config sections added, `UPSTREAM_PORT` in them the upstream's port.)
`--calls`: temperature-0 calls, the same each time (cache hits) or each different (misses).
Prints the top functions by own time and by cumulative time. `--traces RATIO` turns tracing on
(OTLP/HTTP to a discarding collector in a child process, that `sample_ratio`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from loadgen import NONCE, ensure_wrk, run_wrk, write_script
from probes import wait_ready
from run import MESSAGES, RESULTS, free_port
from starlette.types import Receive, Scope, Send

from relaygate.app import create_app
from relaygate.cli import GracefulServer
from relaygate.config import parse_settings
from relaygate.observability.logging import configure_logging
from relaygate.store import migrate


def _sink() -> tuple[subprocess.Popen[str], str]:
    """A discarding OTLP collector in a child process on CPU 0 (not the profiled one's GIL)."""
    child = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-c",
         "import time, otlp_sink; print(otlp_sink.start_sink(), flush=True); time.sleep(1e6)"],
        cwd=Path(__file__).parent, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--translated", action="store_true", help="server.fast_path: false")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--settings", default="{}", metavar="JSON",
                        help="top-level config sections to add (UPSTREAM_PORT: the upstream's port)")
    parser.add_argument("--traces", type=float, metavar="RATIO",
                        help="tracing on with this sample_ratio (OTLP/HTTP, discarded)")
    parser.add_argument("--calls", choices=["repeated", "distinct"],
                        help="temperature-0 calls: the same each time, or each different")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    upstream_port, port = free_port(), free_port()
    upstream = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(Path(__file__).parent / "fast_upstream.py"),
         str(upstream_port)]
    )  # fmt: skip
    workdir = tempfile.mkdtemp(prefix="relaygate-profile-")
    sink = _sink() if args.traces is not None else None
    config: dict[str, object] = {
        "server": {"port": port, "fast_path": not args.translated},
        "storage": {"database_url": f"sqlite+aiosqlite:///{workdir}/p.db"},
        "providers": {"up": {"type": "openai", "base_url": f"http://127.0.0.1:{upstream_port}/v1"}},
        "models": [{"name": "bench", "provider": "up", "model": "bench-model"}],
        **json.loads(args.settings.replace("UPSTREAM_PORT", str(upstream_port))),
    }
    if sink is not None:
        config["telemetry"] = {"traces": {"exporter": "otlp_http", "endpoint": sink[1],
                                          "sample_ratio": args.traces}}
    settings = parse_settings(json.dumps(config), "profile", environ={})
    failure = migrate.finish_child(migrate.start_child(settings.storage.database_url))
    if failure is not None:  # as `relaygate serve` does before it listens
        raise SystemExit(f"migration failed: {failure}")
    log = (RESULTS / "profile-gateway.log").open("w")
    sys.stdout = log  # the request log lines go to the file, as in production
    configure_logging("info")
    app = create_app(settings)
    loops: list[asyncio.AbstractEventLoop] = []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if not loops and scope["type"] == "http":
            loops.append(asyncio.get_running_loop())
        await app(scope, receive, send)

    server_config = uvicorn.Config(
        recording, port=port, ws="none", loop="uvloop", http="httptools",
        lifespan="on", access_log=False, log_level="warning",
    )  # fmt: skip
    server = GracefulServer(app, server_config, 1.0)  # as `relaygate serve` runs it
    request: dict[str, object] = {"model": "bench", "messages": MESSAGES, "stream": args.stream}
    if args.calls is not None:
        request["temperature"] = 0
    if args.calls == "distinct":
        request["messages"] = [*MESSAGES, {"role": "user", "content": f"call {NONCE}"}]
    script = write_script(RESULTS, "profile", json.dumps(request),
                          varying=args.calls == "distinct")
    outcome: dict[str, object] = {}

    def drive() -> None:
        wait_ready(port)
        wait_ready(upstream_port, "/ready")
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        run_wrk(wrk, url, script, 50, 1, "0")  # warm-up; records the server's loop
        loops[0].call_soon_threadsafe(profiler.enable)  # the loop's thread is the one to profile
        profiling.append(True)
        outcome["load"] = run_wrk(wrk, url, script, 50, args.seconds, "0")
        loops[0].call_soon_threadsafe(profiler.disable)
        profiling.clear()
        time.sleep(0.2)
        server.should_exit = True

    gc_started: list[float] = []
    gc_spent: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[:] = [time.thread_time()]
        elif gc_started and profiling:
            gc_spent[info["generation"]].append(time.thread_time() - gc_started[0])

    profiling: list[bool] = []
    gc.callbacks.append(on_gc)
    profiler = cProfile.Profile(
        time.thread_time
    )  # CPU time: other load on the machine does not count
    threading.Thread(target=drive, daemon=True).start()
    started = time.perf_counter()
    try:
        server.run()
    finally:
        upstream.terminate()
        upstream.wait()
        if sink is not None:
            sink[0].terminate()
            sink[0].wait()
        sys.stdout = sys.__stdout__
    print(f"profiled {time.perf_counter() - started:.1f} s; load: {outcome.get('load')}")
    print(f"gc.freeze() kept {gc.get_freeze_count():,} objects out of collections")
    for generation, spent in gc_spent.items():
        print(
            f"gc generation {generation}: {len(spent)} collections, {sum(spent) * 1000:.1f} ms CPU"
        )
    profiler.dump_stats(str(RESULTS / "profile.pstats"))
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
