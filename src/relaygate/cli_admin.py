"""`relaygate keys|tenants|usage|prompts`: manage a running gateway through its admin API.

The commands talk HTTP to the gateway at `--url` (default `$RELAYGATE_URL`, else
http://127.0.0.1:8080) with the admin key from `$RELAYGATE_ADMIN_KEY` or `--admin-key-file`
(never an argument: it would land in the shell's history). A table by default, `--json` for
the API's own JSON. An error answer: its message on one line and exit 1; a usage error: 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relaygate.admin_client import tables as admin_tables
from relaygate.admin_client.errors import AdminApiError

if TYPE_CHECKING:
    from relaygate.admin_client.api import AdminApi

DEFAULT_URL = "http://127.0.0.1:8080"
GROUPS = ("tenant", "key", "model", "provider", "day")
SECRET_NOTE = "This is the only time the secret is shown: store it now; it will not be shown again."
Json = dict[str, Any]
Command = Callable[["AdminApi", argparse.Namespace], int]


class UsageError(Exception):
    """A command line the API should never see (exit 2)."""


def _connect(args: argparse.Namespace) -> AdminApi:
    # imported here: the HTTP client has no place in a serving gateway's memory
    from relaygate.admin_client.api import AdminApi

    return AdminApi(args.url, _admin_key(args))


def _admin_key(args: argparse.Namespace) -> str:
    if args.admin_key_file:
        source = sys.stdin.read() if args.admin_key_file == "-" else _read(args.admin_key_file)
        key = source.strip()
    else:
        key = os.environ.get("RELAYGATE_ADMIN_KEY", "").strip()
    if not key:
        raise UsageError("no admin key: set $RELAYGATE_ADMIN_KEY or pass --admin-key-file PATH")
    return key


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the admin key file: {exc.strerror}: {path}") from None


def _run(command: Command) -> Callable[[argparse.Namespace], int]:
    """`command` with a client, its errors printed on one line (exit 1; 2 for usage)."""

    def handler(args: argparse.Namespace) -> int:
        try:
            with _connect(args) as api:
                return command(api, args)
        except UsageError as exc:
            print(f"relaygate: {exc}", file=sys.stderr)
            return 2
        except AdminApiError as exc:
            print(f"relaygate: {' '.join(exc.message.split())}", file=sys.stderr)
            return 1

    return handler


def _show(args: argparse.Namespace, answer: Json, text: str) -> None:
    print(json.dumps(answer, indent=2) if args.json else text)


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [item.strip() for item in value.split(",") if item.strip()]


def scopes(args: argparse.Namespace) -> Json:
    """The scope options given (models, endpoints, budget, limits, metadata) as API fields."""
    body: Json = {}
    for field in ("models", "endpoints"):
        if getattr(args, field) is not None:
            body[field] = _csv(getattr(args, field))
    budget = {name: value for name, value in (
        ("max_usd", args.budget_usd), ("max_tokens", args.budget_tokens),
        ("period", args.budget_period), ("mode", args.budget_mode)) if value is not None}
    if budget and "max_usd" not in budget and "max_tokens" not in budget:
        raise UsageError("a budget needs --budget-usd or --budget-tokens (or both)")
    if budget:
        body["budget"] = budget
    limits = {name: value for name, value in (
        ("rpm", args.rpm), ("tpm", args.tpm), ("tokens_per_day", args.tokens_per_day),
        ("max_concurrent", args.max_concurrent)) if value is not None}
    if limits:
        body["limits"] = limits
    if args.metadata:
        pairs = [item.partition("=") for item in args.metadata]
        if any(not name or not sep for name, sep, _ in pairs):
            raise UsageError("--metadata takes NAME=VALUE")
        body["metadata"] = {name: value for name, _, value in pairs}
    return body


def _key_fields(args: argparse.Namespace) -> Json:
    body = scopes(args)
    for field in ("name", "expires_at"):
        if getattr(args, field) is not None:
            body[field] = getattr(args, field)
    return body


def keys_create(api: AdminApi, args: argparse.Namespace) -> int:
    key = api.request("POST", "/admin/keys", body={"tenant": args.tenant, **_key_fields(args)})
    return _print_secret(args, key, "created")


def keys_list(api: AdminApi, args: argparse.Namespace) -> int:
    keys = api.every("/admin/keys", {"tenant": args.tenant} if args.tenant else None)
    _show(args, {"object": "list", "data": keys}, admin_tables.key_table(keys))
    return 0


def keys_show(api: AdminApi, args: argparse.Namespace) -> int:
    key = api.request("GET", f"/admin/keys/{args.id}")
    _show(args, key, admin_tables.details(key))
    return 0


def keys_update(api: AdminApi, args: argparse.Namespace) -> int:
    changes = _key_fields(args)
    if not changes:
        raise UsageError("nothing to change: give at least one option")
    key = api.request("PATCH", f"/admin/keys/{args.id}", body=changes)
    _show(args, key, admin_tables.details(key))
    return 0


def keys_rotate(api: AdminApi, args: argparse.Namespace) -> int:
    body = {} if args.grace_seconds is None else {"grace_seconds": args.grace_seconds}
    key = api.request("POST", f"/admin/keys/{args.id}/rotate", body=body)
    return _print_secret(args, key, "rotated")


def keys_revoke(api: AdminApi, args: argparse.Namespace) -> int:
    key = api.request("DELETE", f"/admin/keys/{args.id}")
    _show(args, key, f"key {key['id']} ({key['prefix']}…) is revoked")
    return 0


def _print_secret(args: argparse.Namespace, key: Json, done: str) -> int:
    if args.json:
        print(json.dumps(key, indent=2))
        print(SECRET_NOTE, file=sys.stderr)
        return 0
    print(f"key {key['id']} {done}\n")
    print(f"  secret: {key['key']}\n")
    print(SECRET_NOTE)
    if key.get("previous_key_valid_until"):
        until = admin_tables.when(key["previous_key_valid_until"])
        print(f"The previous secret keeps working until {until}.")
    print()
    print(admin_tables.details(key))
    return 0


def tenants_create(api: AdminApi, args: argparse.Namespace) -> int:
    tenant = api.request("POST", "/admin/tenants", body={"name": args.name, **scopes(args)})
    _show(args, tenant, admin_tables.details(tenant))
    return 0


def tenants_list(api: AdminApi, args: argparse.Namespace) -> int:
    tenants = api.every("/admin/tenants")
    _show(args, {"object": "list", "data": tenants}, admin_tables.tenant_table(tenants))
    return 0


def tenants_show(api: AdminApi, args: argparse.Namespace) -> int:
    tenant = api.request("GET", f"/admin/tenants/{args.name}")
    _show(args, tenant, admin_tables.details(tenant))
    return 0


def tenants_update(api: AdminApi, args: argparse.Namespace) -> int:
    changes = scopes(args)
    if not changes:
        raise UsageError("nothing to change: give at least one option")
    tenant = api.request("PATCH", f"/admin/tenants/{args.name}", body=changes)
    _show(args, tenant, admin_tables.details(tenant))
    return 0


def usage(api: AdminApi, args: argparse.Namespace) -> int:
    query = {"group_by": args.group_by}
    query.update({name: value for name, value in (("from", args.start), ("to", args.end))
                  if value})
    answer = api.request("GET", "/admin/usage", query=query)
    rows = admin_tables.usage_rows(answer)
    if args.csv:
        sys.stdout.write(admin_tables.usage_csv(rows, args.group_by))
    else:
        _show(args, answer, admin_tables.usage_table(rows, args.group_by))
    return 0


def connection_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--url", default=os.environ.get("RELAYGATE_URL", DEFAULT_URL),
                         help="the gateway (default: $RELAYGATE_URL, else %(default)s)")
    options.add_argument("--admin-key-file", metavar="PATH",
                         help="read the admin key from PATH ('-': stdin); "
                              "default: $RELAYGATE_ADMIN_KEY")
    options.add_argument("--json", action="store_true", help="print the API's JSON")
    return options


def _scope_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", help="comma-separated names or globs (a,b,gpt-4o*)")
    parser.add_argument("--endpoints", help="comma-separated families (chat,messages,...)")
    parser.add_argument("--budget-usd", type=float, metavar="USD")
    parser.add_argument("--budget-tokens", type=int, metavar="N")
    parser.add_argument("--budget-period", choices=["day", "week", "month", "total"])
    parser.add_argument("--budget-mode", choices=["hard", "soft"])
    parser.add_argument("--rpm", type=int, help="requests per minute")
    parser.add_argument("--tpm", type=int, help="tokens per minute")
    parser.add_argument("--tokens-per-day", type=int)
    parser.add_argument("--max-concurrent", type=int, help="calls in flight")
    parser.add_argument("--metadata", action="append", metavar="NAME=VALUE")


def _key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name")
    parser.add_argument("--expires-at", metavar="ISO", help="e.g. 2030-01-31T00:00:00Z")
    _scope_options(parser)


def _add(commands: Any, name: str, command: Command, text: str,
         common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    # no abbreviations: `--admin-key SECRET` must be refused, not read as --admin-key-file
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=text, parents=[common], allow_abbrev=False
    )
    parser.set_defaults(handler=_run(command))
    return parser


def add_admin_commands(commands: Any) -> None:
    """`keys`, `tenants` and `usage` under the `relaygate` command's subparsers."""
    common = connection_options()
    keys = commands.add_parser("keys", help="virtual keys (through the admin API)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = _add(key_commands, "create", keys_create, "create a key (its secret shown once)",
                  common)
    create.add_argument("--tenant", required=True)
    _key_options(create)
    listed = _add(key_commands, "list", keys_list, "list keys", common)
    listed.add_argument("--tenant")
    for name, command, text in (("show", keys_show, "one key"),
                                ("revoke", keys_revoke, "revoke a key, on every instance")):
        _add(key_commands, name, command, text, common).add_argument("id")
    update = _add(key_commands, "update", keys_update, "change a key's scopes", common)
    update.add_argument("id")
    _key_options(update)
    rotate = _add(key_commands, "rotate", keys_rotate, "a new secret for a key", common)
    rotate.add_argument("id")
    rotate.add_argument("--grace-seconds", type=float,
                        help="how long the old secret keeps working (default: 3600)")

    tenants = commands.add_parser("tenants", help="tenants (through the admin API)")
    tenant_commands = tenants.add_subparsers(dest="tenants_command", required=True)
    for name, command, text in (("create", tenants_create, "create a tenant"),
                                ("update", tenants_update, "change a tenant's defaults")):
        parser = _add(tenant_commands, name, command, text, common)
        parser.add_argument("name")
        _scope_options(parser)
    _add(tenant_commands, "list", tenants_list, "list tenants", common)
    _add(tenant_commands, "show", tenants_show, "one tenant", common).add_argument("name")

    spent = _add(commands, "usage", usage, "requests, tokens and cost, totalled by group",
                 common)
    spent.add_argument("--group-by", choices=GROUPS, default="model")
    spent.add_argument("--from", dest="start", metavar="WHEN", help="ISO date or time")
    spent.add_argument("--to", dest="end", metavar="WHEN", help="ISO date or time")
    spent.add_argument("--csv", action="store_true", help="CSV on stdout")
