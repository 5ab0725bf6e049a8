"""`wrk` as the load generator: install it when missing, run it with a POST body, parse it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(slots=True)
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def ensure_wrk() -> str:
    """The path of `wrk`, installing the Debian package (as root) when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("bench: wrk is missing; install it with `apt-get install wrk` (as root)")
    print("bench: installing wrk (apt-get)…", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is still missing after apt-get install")
    return found


NONCE = "@NONCE@"  # in a body: replaced by a new value in every request (`varying`)


def write_script(directory: Path, name: str, body: str, key: str = "bench-key",
                 varying: bool = False) -> Path:
    """A wrk Lua script that POSTs `body` as JSON with `key` as its Bearer key; `varying`:
    each request's body has its own value where `body` holds `NONCE` (cache misses)."""
    if "]]" in body:
        raise ValueError("the body must not contain ']]' (Lua long-string delimiter)")
    path = directory / f"{name}.lua"
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = [[{body}]]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )
    if varying:
        script += (
            "math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))\n"
            "local counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            f'  local nonce = tostring(math.random(1, 1000000000)) .. "-" .. counter\n'
            f'  local body = string.gsub(wrk.body, "{NONCE}", nonce)\n'
            "  return wrk.format(nil, nil, nil, body)\n"
            "end\n"
        )
    path.write_text(script)
    return path


def parse(output: str) -> LoadResult:
    percentiles = {
        int(p): float(value) * _UNITS[unit] for p, value, unit in _PERCENTILE.findall(output)
    }
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    if rps is None or total is None or 50 not in percentiles or 99 not in percentiles:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    errors = 0
    non_2xx = _NON_2XX.search(output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = _SOCKET_ERRORS.search(output)
    if sockets:
        errors += sum(int(value) for value in sockets.groups())
    return LoadResult(
        float(rps.group(1)), percentiles[50], percentiles[99], int(total.group(1)), errors
    )


def run_wrk(
    wrk: str, url: str, script: Path, connections: int, seconds: int, cpus: str
) -> LoadResult:
    """One wrk run pinned to `cpus`; threads = min(connections, 2)."""
    threads = max(1, min(connections, 2))
    command = [
        "taskset", "-c", cpus, wrk,
        f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url,
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return parse(output)
