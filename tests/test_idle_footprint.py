"""The embedded default gateway (`make run`: no file, the mock provider, SQLite) stays small:
its idle RSS and its RSS after mock answers are bounded, so a heavy import at start-up
(the tokenizer once cost ~140 MiB here) cannot come back unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port, wait_until_ready

RSS_BOUND_MIB = 80  # ~54 MiB measured; generous for other Python versions and allocators
STARTUP_BOUND_SECONDS = 15  # ~1-2 s measured; the bound only catches a hang on a busy CI


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_default_gateway_idles_small_and_answers_without_the_tokenizer(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "RELAYGATE_CONFIG"}
    if env.get("PYTHONPATH"):  # the child runs in tmp_path: keep a relative path meaningful
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(part) for part in env["PYTHONPATH"].split(os.pathsep)
        )
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "relaygate", "serve", "--port", str(port)],
        cwd=tmp_path,  # the default SQLite file lands here
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", process=process)
        assert time.monotonic() - started < STARTUP_BOUND_SECONDS
        time.sleep(0.3)
        assert _rss_mib(process.pid) <= RSS_BOUND_MIB
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for stream in (False, True):
                reply = client.post(
                    "/v1/chat/completions",
                    json={"model": "mock", "stream": stream,
                          "messages": [{"role": "user", "content": "hello there"}]},
                )
                assert reply.status_code == 200
        assert _rss_mib(process.pid) <= RSS_BOUND_MIB  # the mock's answers load no tokenizer
    finally:
        process.terminate()
        process.wait(20)
