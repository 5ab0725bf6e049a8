"""Real servers on real ports for tests: the gateway as a subprocess, fakes in a thread."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
import yaml
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose connects hang: a listener that never accepts, its one-deep queue filled
    (the kernel then drops new SYNs, so a connect waits until its own timeout)."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        yield port


def wait_until_ready(
    url: str, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@dataclass
class GatewayProcess:
    """A `relaygate serve` subprocess; `base_url` is e.g. http://127.0.0.1:PORT."""

    config_path: Path
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "relaygate",
                "serve",
                "--config",
                str(self.config_path),
                "--port",
                str(self.port),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        wait_until_ready(f"{self.base_url}/readyz", process=self.process)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def run_gateway(
    tmp_path: Path, config: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Iterator[GatewayProcess]:
    """Start the gateway with `config` (a dict written as YAML) and stop it afterwards."""
    config = dict(config or {})
    config.setdefault("storage", {}).setdefault(
        "database_url", f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}"
    )
    config_path = tmp_path / f"relaygate-{free_port()}.yaml"
    config_path.write_text(yaml.safe_dump(config))
    process_env = {**os.environ, **(env or {})}
    process_env.pop("RELAYGATE_CONFIG", None)
    gateway = GatewayProcess(config_path, free_port(), process_env, tmp_path / "gateway.log")
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


class ThreadedServer:
    """An ASGI app served by uvicorn on a background thread (for fake upstreams)."""

    def __init__(
        self, app: ASGIApp, port: int | None = None, lifespan: Literal["on", "off"] = "off"
    ) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=lifespan,  # "on" for an in-process gateway (create_app)
            access_log=False,
            timeout_graceful_shutdown=1,  # a fake's hung handlers ("hang") must not stall teardown
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
