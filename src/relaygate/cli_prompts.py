"""`relaygate prompts create|list|show|version|label|diff|archive`: prompt templates through
the admin API (the connection options and error handling of `cli_admin`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from relaygate.cli_admin import UsageError, _add, _show, connection_options

if TYPE_CHECKING:
    from relaygate.admin_client.api import AdminApi

Json = dict[str, Any]


def _content(path: str) -> Json:
    """A version's content from a YAML or JSON file ('-': stdin)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not YAML or JSON: {exc}") from None
    if not isinstance(content, dict):
        raise UsageError(f"{path} must hold an object (messages or instructions, variables...)")
    return content


def _table(templates: list[Json]) -> str:
    if not templates:
        return "no prompt templates"
    lines = [f"{'ID':<28} {'NAME':<24} {'LATEST':<7} LABELS"]
    for template in templates:
        labels = ", ".join(
            f"{label}={'/'.join(f'{v}:{w}' for v, w in split.items())}"
            for label, split in sorted(template.get("labels", {}).items()))
        archived = " (archived)" if template.get("archived") else ""
        lines.append(f"{template['id']:<28} {template['name']:<24} "
                     f"{template['latest_version']:<7} {labels or '-'}{archived}")
    return "\n".join(lines)


def _details(template: Json) -> str:
    lines = [_table([template])]
    for version in template.get("versions", []):
        parts = [*(["instructions"] if "instructions" in version else []),
                 *(message["role"] for message in version.get("messages", []))]
        names = ", ".join(variable["name"] for variable in version.get("variables", []))
        lines.append(f"  {version['version']}: {' + '.join(parts)}"
                     f"{'; variables: ' + names if names else ''}"
                     f"{'; model: ' + version['model'] if version.get('model') else ''}")
    return "\n".join(lines)


def create(api: AdminApi, args: argparse.Namespace) -> int:
    body = {"name": args.name, **_content(args.file)}
    if args.tenant:
        body["tenant"] = args.tenant
    template = api.request("POST", "/admin/prompts", body=body)
    _show(args, template, _details(template))
    return 0


def listed(api: AdminApi, args: argparse.Namespace) -> int:
    templates = api.every("/admin/prompts", {"archived": "true"} if args.archived else None)
    _show(args, {"object": "list", "data": templates}, _table(templates))
    return 0


def show(api: AdminApi, args: argparse.Namespace) -> int:
    template = api.request("GET", f"/admin/prompts/{args.id}")
    _show(args, template, _details(template))
    return 0


def version(api: AdminApi, args: argparse.Namespace) -> int:
    template = api.request("POST", f"/admin/prompts/{args.id}/versions",
                           body=_content(args.file))
    _show(args, template, f"{template['name']}: {template['version']} created")
    return 0


def label(api: AdminApi, args: argparse.Namespace) -> int:
    if (args.version is None) == (args.weights is None):
        raise UsageError("give --version v2 or --weights v1=90,v2=10")
    body: Json
    if args.version is not None:
        body = {"version": args.version}
    else:
        pairs = [item.partition("=") for item in args.weights.split(",") if item.strip()]
        if any(not sep or not weight.strip().isdigit() for _, sep, weight in pairs):
            raise UsageError("--weights takes VERSION=WEIGHT,... (v1=90,v2=10)")
        body = {"weights": {name.strip(): int(weight) for name, _, weight in pairs}}
    template = api.request("PUT", f"/admin/prompts/{args.id}/labels/{args.label}", body=body)
    _show(args, template, _table([template]))
    return 0


def diff(api: AdminApi, args: argparse.Namespace) -> int:
    answer = api.request("GET", f"/admin/prompts/{args.id}/diff",
                         query={"from": args.start, "to": args.end})
    _show(args, answer, answer["diff"] or "no difference")
    return 0


def archive(api: AdminApi, args: argparse.Namespace) -> int:
    template = api.request("DELETE", f"/admin/prompts/{args.id}")
    _show(args, template, f"{template['name']} is archived")
    return 0


def add_prompt_commands(commands: Any) -> None:
    """`prompts` under the `relaygate` command's subparsers."""
    common = connection_options()
    prompts = commands.add_parser("prompts", help="prompt templates (through the admin API)")
    sub = prompts.add_subparsers(dest="prompts_command", required=True)
    made = _add(sub, "create", create, "a template and its v1, from a YAML/JSON file", common)
    made.add_argument("name")
    made.add_argument("--file", required=True, metavar="PATH", help="the content ('-': stdin)")
    made.add_argument("--tenant", help="only this tenant may use it")
    _add(sub, "list", listed, "list templates", common).add_argument(
        "--archived", action="store_true", help="the archived ones too")
    _add(sub, "show", show, "a template with its versions", common).add_argument("id")
    added = _add(sub, "version", version, "the next version, from a file", common)
    added.add_argument("id")
    added.add_argument("--file", required=True, metavar="PATH")
    labelled = _add(sub, "label", label, "point a label at a version, or split it", common)
    labelled.add_argument("id")
    labelled.add_argument("label")
    labelled.add_argument("--version", metavar="vN")
    labelled.add_argument("--weights", metavar="v1=90,v2=10")
    compared = _add(sub, "diff", diff, "what changed between two versions", common)
    compared.add_argument("id")
    compared.add_argument("--from", dest="start", required=True, metavar="vN")
    compared.add_argument("--to", dest="end", required=True, metavar="vN")
    _add(sub, "archive", archive, "archive a template", common).add_argument("id")
