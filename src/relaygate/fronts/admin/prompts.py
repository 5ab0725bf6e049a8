"""Prompt templates (docs/prompts.md), for the admin key:

    POST   /admin/prompts                        {name, messages | instructions, variables?,
                                                  model?, params?, tenant?} → with v1
    GET    /admin/prompts                        list (?limit, ?after, ?archived=true)
    GET    /admin/prompts/{id}                   with every version (id or name)
    POST   /admin/prompts/{id}/versions          {messages | instructions, ...} → the next one
    PUT    /admin/prompts/{id}/labels/{label}    {version: "v2"} or {weights: {"v1": 90, "v2": 10}}
    GET    /admin/prompts/{id}/diff?from=v1&to=v2
    DELETE /admin/prompts/{id}                   archive (its versions stay, for the ledger)

Every change drops the cached templates on every instance (over the bus)."""

from __future__ import annotations

import difflib
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.errors import InvalidRequest, NotFound
from relaygate.fronts.admin.audit import audited
from relaygate.fronts.admin.auth import require_admin
from relaygate.fronts.common import int_query, list_page, read_json_object
from relaygate.prompts.content import LabelBody, TemplateBody, VersionContent
from relaygate.prompts.ref import TEMPLATES_OFF
from relaygate.prompts.render import compile_version
from relaygate.prompts.service import Prompts
from relaygate.services import Gateway
from relaygate.store.prompts import TemplateRecord
from relaygate.translate.validation import validate_wire

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


async def _prompts(request: Request) -> tuple[Gateway, Prompts]:
    gateway = await require_admin(request)
    if gateway.prompts is None:
        raise NotFound(TEMPLATES_OFF, code="prompts_off")
    return gateway, gateway.prompts


def _content(body: VersionContent) -> dict[str, Any]:
    compile_version(body)  # a syntax error is a 400 now, not at the first call
    return body.model_dump(mode="json", exclude_none=True,
                           include=set(VersionContent.model_fields))


def template_json(template: TemplateRecord, versions: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": template.id,
        "object": "prompt",
        "name": template.name,
        "tenant": template.tenant,
        "latest_version": f"v{template.latest}",
        "labels": template.labels,
        "archived": template.archived_at is not None,
        "created_at": int(template.created_at),
        "updated_at": int(template.updated_at),
    }
    if versions:
        view["versions"] = [
            {"version": f"v{number}", "created_at": int(template.version_times[number]),
             **content}
            for number, content in sorted(template.versions.items())
        ]
    return view


async def create_prompt(request: Request) -> JSONResponse:
    gateway, prompts = await _prompts(request)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(TemplateBody, raw)
    store = await prompts.store()
    template = await store.create(body.name, body.tenant, _content(body))
    await prompts.changed()
    view = template_json(template)
    await audited(gateway, request, "prompt.created", f"prompt:{template.id}", None, view)
    return JSONResponse(view, status_code=201)


async def list_prompts(request: Request) -> JSONResponse:
    _, prompts = await _prompts(request)
    limit = int_query(request, "limit", 20, 1, 100)
    archived = request.query_params.get("archived") == "true"
    rows = await (await prompts.store()).list(limit + 1, request.query_params.get("after"),
                                              archived)
    page = [template_json(row, versions=False) for row in rows[:limit]]
    return JSONResponse(list_page(page, page[0]["id"] if page else None,
                                  page[-1]["id"] if page else None, len(rows) > limit))


async def _template(prompts: Prompts, key: str) -> TemplateRecord:
    template = await (await prompts.store()).get(key)
    if template is None:
        raise NotFound(f"No prompt template {key!r}.", code="prompt_not_found")
    return template


async def get_prompt(request: Request) -> JSONResponse:
    _, prompts = await _prompts(request)
    return JSONResponse(template_json(await _template(prompts, request.path_params["id"])))


async def create_version(request: Request) -> JSONResponse:
    gateway, prompts = await _prompts(request)
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(VersionContent, raw)
    template, number = await (await prompts.store()).add_version(request.path_params["id"],
                                                                 _content(body))
    await prompts.changed()
    view = template_json(template)
    view["version"] = f"v{number}"
    await audited(gateway, request, "prompt.version_created", f"prompt:{template.id}", None,
                  {"version": view["version"]})
    return JSONResponse(view, status_code=201)


async def put_label(request: Request) -> JSONResponse:
    gateway, prompts = await _prompts(request)
    label = request.path_params["label"]
    if not LABEL.match(label):
        raise InvalidRequest(f"Invalid label {label!r}: letters, digits, '_', '.', '-'.",
                             param="label", code="invalid_value")
    if label[:1] == "v" and label[1:].isdigit():
        raise InvalidRequest(f"A label may not look like a version ({label!r}).",
                             param="label", code="invalid_value")
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(LabelBody, raw)
    before = template_json(await _template(prompts, request.path_params["id"]), versions=False)
    template = await (await prompts.store()).set_label(request.path_params["id"], label,
                                                       body.split())
    await prompts.changed()
    view = template_json(template, versions=False)
    await audited(gateway, request, "prompt.label_changed", f"prompt:{template.id}",
                  {"labels": before.get("labels")}, {"labels": view.get("labels")})
    return JSONResponse(view)


async def diff_prompt(request: Request) -> JSONResponse:
    _, prompts = await _prompts(request)
    template = await _template(prompts, request.path_params["id"])
    older = _version(template, request.query_params.get("from"), "from")
    newer = _version(template, request.query_params.get("to"), "to")
    before, after = template.versions[older], template.versions[newer]
    lines = difflib.unified_diff(
        _pretty(before), _pretty(after), f"v{older}", f"v{newer}", lineterm="")
    changed = sorted(name for name in {*before, *after} if before.get(name) != after.get(name))
    return JSONResponse({"object": "prompt.diff", "id": template.id, "from": f"v{older}",
                         "to": f"v{newer}", "changed": changed, "diff": "\n".join(lines)})


async def archive_prompt(request: Request) -> JSONResponse:
    gateway, prompts = await _prompts(request)
    template = await (await prompts.store()).archive(request.path_params["id"])
    await prompts.changed()
    view = template_json(template, versions=False)
    await audited(gateway, request, "prompt.archived", f"prompt:{template.id}", None, view)
    return JSONResponse(view)


def _version(template: TemplateRecord, value: str | None, param: str) -> int:
    if value is None or value[:1] != "v" or not value[1:].isdigit():
        raise InvalidRequest(f"Invalid value for '{param}': expected a version ('v2').",
                             param=param, code="invalid_value")
    number = int(value[1:])
    if number not in template.versions:
        raise NotFound(f"Template {template.name!r} has no version {value!r}.", param=param,
                       code="prompt_version_not_found")
    return number


def _pretty(content: dict[str, Any]) -> list[str]:
    return orjson.dumps(content, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                        ).decode().splitlines()
