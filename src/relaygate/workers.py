"""`server.workers: N`: N serving processes on one listening socket.

The parent binds the port, runs the migrations, then forks N workers that each build
their own app and serve the inherited socket (the kernel spreads accepted connections);
the workers share the parent's imported modules copy-on-write, where uvicorn's own
`workers` spawns fresh interpreters that import everything again. The parent forwards
SIGTERM/SIGINT to the workers and waits for them.

State a worker keeps in its own memory (rate-limit and budget counters, the response
cache, key revocations, event logs and the bus) would be wrong across workers, so
several workers need `storage.redis_url`; without it the gateway refuses to start.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from types import FrameType

from relaygate.config import Settings


def workers_problem(settings: Settings) -> str | None:
    """Why these settings cannot run with several workers, or None."""
    if settings.server.workers > 1 and not settings.storage.redis_url:
        return (
            f"server.workers is {settings.server.workers} but storage.redis_url is not set: "
            "rate limits, budgets, the cache, key revocations and event logs would be counted "
            "per process; set storage.redis_url (or run one worker)"
        )
    return None


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker inherits."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_workers(count: int, sock: socket.socket, serve: Callable[[socket.socket], None]) -> int:
    """Fork `count` processes running `serve(sock)`; wait for all; the worst exit code.

    A worker that ends on its own (a crash) stops the others, so the group exits and its
    supervisor (systemd, the container runtime) restarts it whole rather than one worker
    short."""
    children: set[int] = set()
    forwarded: set[int] = set()

    def forward(sig: int, frame: FrameType | None) -> None:
        forwarded.add(sig)
        for child in children:
            try:
                os.kill(child, sig)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)  # before the forks: a stop during start-up
    signal.signal(signal.SIGINT, forward)  # still reaches every worker
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # its server installs its own
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                serve(sock)
            except BaseException:  # a worker reports and exits: it never returns to the parent
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.add(pid)
    sock.close()
    worst = 0
    while children:
        pid, status = os.wait()
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        if -code in forwarded:  # uvicorn re-raises the signal it stopped on
            code = 0
        elif not forwarded:  # ended on its own: stop the rest
            print(f"relaygate: worker {pid} exited ({code}); stopping the others",
                  file=sys.stderr)
            forward(signal.SIGTERM, None)
            code = code or 1
        worst = max(worst, abs(code))
    return worst
