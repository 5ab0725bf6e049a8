"""Instructions per request, counted by valgrind's callgrind: a figure the machine's load
does not move, for comparing two builds when wall-clock numbers swing by ±20 %.

Run: python bench/instructions.py [--against REF] [--requests 300] [--settings JSON]
         [--same-settings] [--mode fast|translated] [--kind plain|stream]
         [--calls repeated|distinct] [--key KEY]

Each gateway (this tree's, and REF's from a temporary worktree) runs three times under
callgrind, counting the whole process: with a few requests of each kind, with N more
non-streaming ones, with N more streaming ones (fast path and translated, sequential).
The differences over N are the instructions per request (start-up cancels out; hash
seeds are fixed). Prints them for each build, and the change. `--mode` and `--kind` count
only one of each (a third or half the time); `--same-settings` gives REF's gateways the
`--settings` too (to compare two builds of one feature); in them, `UPSTREAM_PORT` is the
bench upstream's port (a second provider on it). `--calls` sends temperature-0 calls, the
same one each time (`repeated`: cache hits) or each one different (`distinct`: cache misses).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from run import MESSAGES, add_settings_option, build_of, free_port, start_upstream, stop

WARMUP = 50
MODES = [("fast path", True), ("translated", False)]


def _gateway(workdir: Path, name: str, upstream: int, fast_path: bool,
             src: Path | None, extra: dict[str, Any]) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    config: dict[str, Any] = {
        "server": {"port": port, "fast_path": fast_path, "shutdown_grace_seconds": 1},
        "storage": {"database_url": f"sqlite+aiosqlite:///{workdir / name}.db"},
        "providers": {"up": {"type": "openai", "base_url": f"http://127.0.0.1:{upstream}/v1",
                             "api_key": "sk-bench"}},
        "models": [{"name": "bench", "provider": "up", "model": "bench-model"}],
        **extra,
    }
    config_path = workdir / f"{name}.yaml"
    config_path.write_text(json.dumps(config))
    out = workdir / f"{name}.callgrind"
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYGATE_")}
    # this tree's gateway runs this tree's sources, not whatever relaygate is installed
    env["PYTHONPATH"] = str(src if src is not None else Path(__file__).resolve().parents[1] / "src")
    env["PYTHONHASHSEED"] = "0"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "relaygate", "serve",
               "--config", str(config_path)]
    log = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return process, port, out
        except httpx.HTTPError:
            time.sleep(0.5)
    stop(process)
    tail = (workdir / f"{name}.log").read_text(errors="replace")[-2000:]
    raise SystemExit(f"instructions: the {name} gateway did not start under valgrind:\n{tail}")


def _send(port: int, plain: int, streamed: int, calls: str | None, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as client:
        for count, stream in ((plain, False), (streamed, True)):
            body: dict[str, Any] = {"model": "bench", "messages": MESSAGES, "stream": stream}
            if calls is not None:
                body["temperature"] = 0
            for number in range(count):
                if calls == "distinct":  # never seen before, even by a shared (Redis) cache
                    call = f"call {time.time_ns()} {number}"
                    body["messages"] = [*MESSAGES, {"role": "user", "content": call}]
                client.post("/v1/chat/completions", json=body).raise_for_status()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait: under callgrind on a busy machine the shutdown takes more than
    run.stop's 10 s, and a killed process writes no totals."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(180)
    except subprocess.TimeoutExpired:
        stop(process)


def _total(workdir: Path, name: str, upstream: int, fast_path: bool, src: Path | None,
           extra: dict[str, Any], plain: int, streamed: int, calls: str | None = None,
           key: str | None = None) -> int:
    """Instructions of a whole gateway process that served `plain` + `streamed` requests."""
    process, port, out = _gateway(workdir, name, upstream, fast_path, src, extra)
    try:
        _send(port, plain, streamed, calls, key)
    finally:
        _stop(process)
    text = out.read_text(errors="replace")
    out.unlink()
    total = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.MULTILINE)
    if total is None:
        raise SystemExit(f"instructions: no total in {out}")
    return int(total.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--against", metavar="REF", help="also count this git commit's gateway")
    parser.add_argument("--requests", type=int, default=300, help="N, the requests counted")
    add_settings_option(parser)
    parser.add_argument("--same-settings", action="store_true",
                        help="give REF's gateways the --settings too")
    parser.add_argument("--mode", choices=[name.split()[0] for name, _ in MODES],
                        help="count only this mode")
    parser.add_argument("--kind", choices=["plain", "stream"], help="count only this kind")
    parser.add_argument("--calls", choices=["repeated", "distinct"],
                        help="temperature-0 calls: the same each time, or each different")
    parser.add_argument("--key", help="send this API key (a key in --settings' `keys`)")
    args = parser.parse_args()
    results: dict[tuple[str, str, str], float] = {}
    upstream_port = free_port()
    # a second provider on the same upstream: "base_url": "http://127.0.0.1:UPSTREAM_PORT/v1"
    settings: dict[str, Any] = json.loads(args.settings.replace("UPSTREAM_PORT", str(upstream_port)))
    upstream = start_upstream(upstream_port)
    try:
        with tempfile.TemporaryDirectory(prefix="relaygate-instr-") as folder, \
                build_of(args.against) as ref_src:
            builds: list[tuple[str, Path | None]] = [("this tree", None)]
            if ref_src is not None:
                builds.insert(0, (str(args.against), ref_src))
            for build, src in builds:
                for mode, fast_path in MODES:
                    if args.mode is not None and not mode.startswith(args.mode):
                        continue
                    slug = re.sub(r"\W", "-", f"{build}-{mode}")
                    print(f"instructions: {build}, {mode}…", flush=True)
                    n, base = args.requests, WARMUP
                    extra = settings if src is None or args.same_settings else {}
                    kinds = {"plain": (base + n, base), "stream": (base, base + n)}
                    if args.kind is not None:
                        kinds = {args.kind: kinds[args.kind]}
                    zero = _total(Path(folder), slug, upstream_port, fast_path, src, extra,
                                  base, base, args.calls, args.key)
                    for kind, counts in kinds.items():
                        runs = _total(Path(folder), slug, upstream_port, fast_path, src, extra,
                                      *counts, args.calls, args.key)
                        results[(build, mode, kind)] = (runs - zero) / n
    finally:
        stop(upstream)
    print(f"\ninstructions per request (callgrind, {args.requests} sequential requests each):")
    for (build, mode, kind), value in results.items():
        line = f"- {build}, {mode}, {kind}: {value:,.0f}"
        if args.against and build == "this tree":
            before = results[(str(args.against), mode, kind)]
            line += f" ({(value - before) / before:+.1%} against {args.against})"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
