"""`server.workers` / `serve --workers N`: N processes on one port, sharing their limits
through Redis, and a clear refusal when several workers would count them per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.conftest import REDIS_URL
from tests.limits.support import AUTH, config
from tests.support.servers import free_port, run_gateway


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _chat(url: str) -> int:
    body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=url, headers=AUTH) as client:  # a fresh connection each time
        return client.post("/v1/chat/completions", json=body).status_code


def test_two_workers_serve_one_port_and_share_limits_in_redis(tmp_path: Path) -> None:
    settings = config(tmp_path, key_limits={"rpm": 40})
    settings["storage"] = {**settings["storage"], "redis_url": REDIS_URL}
    settings["server"] = {"workers": 2, "log_level": "warning"}
    with run_gateway(tmp_path, settings) as gateway:
        assert gateway.process is not None
        workers = _children(gateway.process.pid)
        assert len(workers) == 2
        before = [_cpu_ticks(worker) for worker in workers]
        statuses = [_chat(gateway.base_url) for _ in range(44)]
        after = [_cpu_ticks(worker) for worker in workers]
    assert statuses.count(200) == 40 and statuses[40:] == [429] * 4  # one count, not two
    assert all(end > start for start, end in zip(before, after, strict=True))  # both served


def test_several_workers_without_redis_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "relaygate.yaml"
    path.write_text(yaml.safe_dump(config(tmp_path)))
    env = {key: value for key, value in os.environ.items() if key != "RELAYGATE_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "relaygate", "serve", "--config", str(path),
         "--port", str(free_port()), "--workers", "2"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 2
    assert "server.workers is 2" in result.stderr and "storage.redis_url" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_crashed_worker_stops_the_group_for_its_supervisor_to_restart(tmp_path: Path) -> None:
    settings = config(tmp_path)
    settings["storage"] = {**settings["storage"], "redis_url": REDIS_URL}
    settings["server"] = {"workers": 2, "log_level": "warning"}
    with run_gateway(tmp_path, settings) as gateway:
        assert gateway.process is not None
        first, second = _children(gateway.process.pid)
        os.kill(first, 9)
        code = gateway.process.wait(timeout=30)  # the other worker was stopped too
        assert code != 0
        assert not Path(f"/proc/{second}").exists()
