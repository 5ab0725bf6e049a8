"""The `relaygate` command: `serve`, `migrate`, `config check`, `chat`, and `keys`,
`tenants` and `usage` (cli_admin.py)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import sys
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from relaygate.app import create_app
from relaygate.cli_admin import add_admin_commands
from relaygate.cli_prompts import add_prompt_commands
from relaygate.config import ConfigError, Settings, config_warnings, load_settings
from relaygate.observability.logging import configure_logging
from relaygate.pipeline.hooks import Hooks
from relaygate.providers.factory import build_providers
from relaygate.routing.registry import ModelRegistry
from relaygate.services import Gateway
from relaygate.store import migrate
from relaygate.workers import bind, run_workers, workers_problem

GC_YOUNG_THRESHOLD = 10_000


class GracefulServer(uvicorn.Server):
    """On SIGTERM: stop accepting, let streams run for the grace period, then end them
    cleanly (a final error event and `[DONE]`) before uvicorn's hard stop."""

    def __init__(self, app: Starlette, config: uvicorn.Config, grace_seconds: float) -> None:
        super().__init__(config)
        self._app = app
        self._grace = grace_seconds

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # Everything built so far (modules, settings, services) lives as long as the process:
        # move it out of the collector's sight so that full collections stay cheap. Requests
        # free their objects by reference counting; collecting the young generation every
        # 700 allocations cost ~40 µs a request (bench/profile_gateway.py), every 10,000 ~0.
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        gateway: Gateway | None = getattr(self._app.state, "gateway", None)
        if gateway is not None and not gateway.stopping:
            gateway.stopping = True
            loop = asyncio.get_running_loop()
            loop.call_later(max(self._grace - 0.5, 0.0), gateway.drain)
        super().handle_exit(sig, frame)


def _load(path: str | None) -> Settings:
    """The settings, with every hook they name imported (exit 2 naming what is wrong)."""
    try:
        settings = load_settings(path)
        Hooks.load(settings.hooks)
    except ConfigError as exc:
        print(f"relaygate: invalid configuration\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return settings


def serve(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    if args.host:
        settings.server.host = args.host
    if args.port:
        settings.server.port = args.port
    if args.workers:
        settings.server.workers = args.workers
    problem = workers_problem(settings)
    if problem is not None:
        print(f"relaygate: invalid configuration\n{problem}", file=sys.stderr)
        return 2
    configure_logging(settings.server.log_level)
    migration = migrate.start_child(settings.storage.database_url)  # runs while the app loads
    if settings.server.workers > 1:
        failure = migrate.finish_child(migration)
        if failure is not None:
            print(f"relaygate: {failure}", file=sys.stderr)
            return 1
        sock = bind(settings.server.host, settings.server.port)
        return run_workers(settings.server.workers, sock,
                           lambda inherited: _serve_app(create_app(settings), settings, [inherited]))
    app = create_app(settings)
    failure = migrate.finish_child(migration)
    if failure is not None:
        print(f"relaygate: {failure}", file=sys.stderr)
        return 1
    _serve_app(app, settings, None)
    return 0


def _serve_app(app: Starlette, settings: Settings, sockets: list[socket.socket] | None) -> None:
    """Serve `app` with uvicorn until it stops (on `sockets` when given, else host:port)."""
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        access_log=False,
        log_config=None,  # configure_logging set up uvicorn's loggers: levels, redaction
        timeout_graceful_shutdown=int(settings.server.shutdown_grace_seconds + 2),
        server_header=False,
    )
    GracefulServer(app, config, settings.server.shutdown_grace_seconds).run(sockets)


def migrate_database(args: argparse.Namespace) -> int:
    """Bring the configured database to the newest schema (`serve` does it too)."""
    settings = _load(args.config)
    failure = migrate.finish_child(migrate.start_child(settings.storage.database_url))
    if failure is not None:
        print(f"relaygate: {failure}", file=sys.stderr)
        return 1
    print("the database schema is up to date")
    return 0


def chat(args: argparse.Namespace) -> int:
    # imported here: the HTTP client has no place in a serving gateway's memory
    from relaygate.client import terminal

    return terminal.run(args)


def config_check(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    try:
        registry = ModelRegistry(settings, build_providers(settings.providers))
    except ValueError as exc:
        print(f"relaygate: invalid configuration\n{exc}", file=sys.stderr)
        return 2
    rows = registry.table()
    width = max(len(name) for name, _, _ in rows) + 2
    print(f"{'MODEL':<{width}}{'PROVIDER':<16}UPSTREAM MODEL")
    for name, provider, upstream in rows:
        print(f"{name:<{width}}{provider:<16}{upstream}")
    keys = len(settings.keys)
    admin = settings.admin.key is not None
    if keys:
        print(f"\n{keys} API key(s) in the config file")
    elif not admin:
        print("\nno API keys and no admin key: the gateway runs open")
    print("admin API on: keys in the database too" if admin else "admin API off")
    for line in registry.router.describe():
        print(line)
    for hook in settings.hooks:
        print(f"hook {hook.on.value}: {hook.call} (loaded)")
    if settings.guardrails:
        from relaygate.guardrails.build import guardrails_of  # the detectors, only when used

        try:
            guardrails_of(settings)
        except ConfigError as exc:
            print(f"relaygate: invalid configuration\n{exc}", file=sys.stderr)
            return 2
        for name, guard in settings.guardrails.items():
            where = ", ".join(item.value for item in guard.on)
            print(f"guard {name}: {guard.type.value} on {where} → {guard.action.value}")
    for warning in config_warnings(settings):
        print(f"relaygate: warning: {warning}", file=sys.stderr)
    return 0


def guard_test(args: argparse.Namespace) -> int:
    """`relaygate guard test "text"`: what the configured guards would do with it."""
    # imported here: the detectors' libraries load only for this command
    from relaygate.guardrails.build import guardrails_of
    from relaygate.guardrails.preview import preview
    from relaygate.guardrails.settings import GuardOn

    settings = _load(args.config)
    try:
        guardrails = guardrails_of(settings)
    except ConfigError as exc:
        print(f"relaygate: invalid configuration\n{exc}", file=sys.stderr)
        return 2
    unknown = [name for name in args.guard or [] if name not in guardrails.guards]
    if unknown:
        print(f"relaygate: unknown guard(s) {unknown} (configured: {sorted(guardrails.guards)})",
              file=sys.stderr)
        return 2
    guards = [guard for name, guard in guardrails.guards.items()
              if not args.guard or name in args.guard]
    print(json.dumps(preview(guards, args.text, GuardOn(args.where)), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relaygate", description="An AI agent gateway.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the gateway")
    serve_parser.add_argument("--config", help="YAML file (default: $RELAYGATE_CONFIG)")
    serve_parser.add_argument("--host")
    serve_parser.add_argument("--port", type=int)
    serve_parser.add_argument("--workers", type=int, help="serving processes (server.workers)")
    serve_parser.set_defaults(handler=serve)
    migrate_parser = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate_parser.add_argument("--config", help="YAML file (default: $RELAYGATE_CONFIG)")
    migrate_parser.set_defaults(handler=migrate_database)
    config_parser = commands.add_parser("config", help="work with the configuration")
    config_commands = config_parser.add_subparsers(dest="config_command", required=True)
    check_parser = config_commands.add_parser("check", help="validate, print the routing table")
    check_parser.add_argument("--config", help="YAML file (default: $RELAYGATE_CONFIG)")
    check_parser.set_defaults(handler=config_check)
    chat_parser = commands.add_parser("chat", help="chat with a gateway in the terminal")
    chat_parser.add_argument(
        "--url", default=os.environ.get("RELAYGATE_URL", "http://127.0.0.1:8080")
    )
    chat_parser.add_argument("--api-key", default=os.environ.get("RELAYGATE_API_KEY"))
    chat_parser.add_argument("--model", help="default: the gateway's first model")
    chat_parser.add_argument("--tools", help="gateway tools for new sessions, comma-separated")
    chat_parser.add_argument("--session", help="continue this session")
    chat_parser.set_defaults(handler=chat)
    guard_parser = commands.add_parser("guard", help="try the guardrails")
    guard_commands = guard_parser.add_subparsers(dest="guard_command", required=True)
    guard_test_parser = guard_commands.add_parser("test", help="what the guards do with a text")
    guard_test_parser.add_argument("text")
    guard_test_parser.add_argument("--config", help="YAML file (default: $RELAYGATE_CONFIG)")
    guard_test_parser.add_argument("--where", default="input",
                                   choices=["input", "output", "tool_args", "tool_results"])
    guard_test_parser.add_argument("--guard", action="append", help="only this guard (repeat)")
    guard_test_parser.set_defaults(handler=guard_test)
    add_admin_commands(commands)
    add_prompt_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
