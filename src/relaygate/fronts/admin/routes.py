"""The admin API's routes. Their modules load SQLAlchemy, so each is imported on its first
request (`Lazy`, as the agent routes): a gateway without an admin key never loads them."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from relaygate.fronts.agent_routes import Lazy

KEYS = "relaygate.fronts.admin.keys"
TENANTS = "relaygate.fronts.admin.tenants"
PROMPTS = "relaygate.fronts.admin.prompts"
FEEDBACK = "relaygate.fronts.feedback"
GUARDRAILS = "relaygate.fronts.admin.guardrails"  # loads the detectors only when asked
AUDIT = "relaygate.fronts.admin.audit"
AGENTS = "relaygate.fronts.admin.agents"
WORKFLOWS = "relaygate.fronts.admin.workflows"
CACHE = "relaygate.fronts.admin.cache"


def _route(method: str, path: str, target: Lazy) -> Route:
    return Route(path, target.handle, methods=[method])


def admin_routes() -> list[BaseRoute]:
    return [
        _route("POST", "/admin/keys", Lazy(KEYS, "create_key")),
        _route("GET", "/admin/keys", Lazy(KEYS, "list_keys")),
        _route("GET", "/admin/keys/{key_id}", Lazy(KEYS, "get_key")),
        _route("PATCH", "/admin/keys/{key_id}", Lazy(KEYS, "update_key")),
        _route("POST", "/admin/keys/{key_id}/rotate", Lazy(KEYS, "rotate_key")),
        _route("DELETE", "/admin/keys/{key_id}", Lazy(KEYS, "revoke_key")),
        _route("POST", "/admin/tenants", Lazy(TENANTS, "create_tenant")),
        _route("GET", "/admin/tenants", Lazy(TENANTS, "list_tenants")),
        _route("GET", "/admin/tenants/{name}", Lazy(TENANTS, "get_tenant")),
        _route("PATCH", "/admin/tenants/{name}", Lazy(TENANTS, "update_tenant")),
        _route("POST", "/admin/prompts", Lazy(PROMPTS, "create_prompt")),
        _route("GET", "/admin/prompts", Lazy(PROMPTS, "list_prompts")),
        _route("GET", "/admin/prompts/{id}", Lazy(PROMPTS, "get_prompt")),
        _route("DELETE", "/admin/prompts/{id}", Lazy(PROMPTS, "archive_prompt")),
        _route("POST", "/admin/prompts/{id}/versions", Lazy(PROMPTS, "create_version")),
        _route("PUT", "/admin/prompts/{id}/labels/{label}", Lazy(PROMPTS, "put_label")),
        _route("GET", "/admin/prompts/{id}/diff", Lazy(PROMPTS, "diff_prompt")),
        _route("POST", "/v1/feedback", Lazy(FEEDBACK, "post_feedback")),
        _route("GET", "/admin/guardrails/test", Lazy(GUARDRAILS, "test_guardrails")),
        _route("GET", "/admin/audit", Lazy(AUDIT, "list_audit")),
        _route("POST", "/admin/agents", Lazy(AGENTS, "create_agent")),
        _route("GET", "/admin/agents", Lazy(AGENTS, "list_agents")),
        _route("GET", "/admin/agents/{name}", Lazy(AGENTS, "get_agent")),
        _route("PATCH", "/admin/agents/{name}", Lazy(AGENTS, "update_agent")),
        _route("DELETE", "/admin/agents/{name}", Lazy(AGENTS, "delete_agent")),
        _route("POST", "/admin/workflows", Lazy(WORKFLOWS, "create_workflow")),
        _route("GET", "/admin/workflows", Lazy(WORKFLOWS, "list_workflows")),
        _route("GET", "/admin/workflows/{name}", Lazy(WORKFLOWS, "get_workflow")),
        _route("DELETE", "/admin/workflows/{name}", Lazy(WORKFLOWS, "delete_workflow")),
        _route("DELETE", "/admin/cache", Lazy(CACHE, "clear_cache")),
    ]
