"""Policies per tenant and key, dangerous tools, the decorator's schemas, the loader."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from relaygate.agents.tools.base import Tool, ToolContext
from relaygate.agents.tools.decorator import parameters_schema
from relaygate.agents.tools.errors import ToolArgumentsInvalid
from relaygate.agents.tools.loader import load_tool
from relaygate.agents.tools.policy import ToolPolicies
from relaygate.agents.tools.registry import ToolRegistry
from relaygate.agents.tools.validation import validate_arguments
from relaygate.config import ToolPolicyMode, ToolPolicySettings, ToolsSettings
from relaygate.pipeline.auth import Principal


async def _nothing(arguments: dict[str, Any], context: ToolContext) -> None:
    return None


def _tool(name: str, dangerous: bool = False, tenant: str | None = None) -> Tool:
    return Tool(name, name, _nothing, dangerous=dangerous, tenant=tenant)


def test_policies() -> None:
    settings = ToolsSettings(
        tenants={
            "acme": ToolPolicySettings(
                mode=ToolPolicyMode.ALLOW_LIST, allow=["calculator", "docs_*", "bash"]
            ),
            "beta": ToolPolicySettings(mode=ToolPolicyMode.DENY_LIST, deny=["weather"]),
            "open": ToolPolicySettings(mode=ToolPolicyMode.ALLOW_ALL, allow=["python"]),
        },
        keys={
            "readonly": ToolPolicySettings(
                mode=ToolPolicyMode.DENY_LIST, deny=["bash", "docs_write"]
            )
        },
    )
    policies = ToolPolicies(settings)
    acme = Principal("acme")
    acme_readonly = Principal("acme", key_name="readonly")
    assert policies.allows(acme, _tool("calculator"))
    assert policies.allows(acme, _tool("docs_search"))
    assert not policies.allows(acme, _tool("weather"))
    assert policies.allows(acme, _tool("bash", dangerous=True))  # named in allow
    assert not policies.allows(acme_readonly, _tool("bash", dangerous=True))  # key denies it
    assert not policies.allows(acme_readonly, _tool("docs_write"))
    assert not policies.allows(Principal("beta"), _tool("weather"))
    assert policies.allows(Principal("beta"), _tool("echo"))
    assert not policies.allows(Principal("beta"), _tool("bash", dangerous=True))  # not named
    assert policies.allows(Principal("open"), _tool("python", dangerous=True))
    assert not policies.allows(Principal("open"), _tool("bash", dangerous=True))
    assert policies.allows(Principal("other"), _tool("echo"))  # the default: allow all
    assert not policies.allows(Principal("other"), _tool("bash", dangerous=True))
    assert not policies.allows(Principal("beta"), _tool("docs_search", tenant="acme"))
    assert "dangerous" in policies.reason(Principal("beta"), _tool("bash", dangerous=True))


def test_registry_scopes_imported_tools_to_their_tenant() -> None:
    registry = ToolRegistry()
    registry.register(_tool("echo"))
    registry.register(_tool("docs_search", tenant="acme"))
    assert [tool.name for tool in registry.for_tenant("acme")] == ["docs_search", "echo"]
    assert [tool.name for tool in registry.for_tenant("beta")] == ["echo"]
    assert registry.get("docs_search", "beta") is None
    with pytest.raises(ValueError, match="already registered"):
        registry.register(_tool("echo"))
    with pytest.raises(ValueError, match="must match"):
        registry.register(_tool("has space"))


def test_decorator_schema_from_type_hints() -> None:
    def sample(
        context: ToolContext,
        city: str,
        days: int,
        ratio: float = 0.5,
        tags: list[str] | None = None,
        unit: Literal["c", "f"] = "c",
    ) -> None: ...

    schema, context_name = parameters_schema(sample)
    assert context_name == "context"
    assert schema["required"] == ["city", "days"]
    assert schema["properties"]["city"] == {"type": "string"}
    assert schema["properties"]["days"] == {"type": "integer"}
    assert schema["properties"]["ratio"] == {"type": "number", "default": 0.5}
    assert schema["properties"]["tags"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
        "default": None,
    }
    assert schema["properties"]["unit"] == {"enum": ["c", "f"], "default": "c"}


def test_loader_accepts_decorated_and_plain_functions() -> None:
    greet = load_tool("tests.agents.tools.plugins.custom:greet")
    assert greet.name == "greet" and greet.description == "Greet someone, optionally loudly."
    assert greet.parameters["properties"]["name"] == {
        "type": "string",
        "description": "who to greet",
    }
    whoami = load_tool("tests.agents.tools.plugins.custom:whoami")
    assert whoami.description.startswith("Which tenant")
    assert "context" not in whoami.parameters["properties"]
    with pytest.raises(ValueError, match="cannot import"):
        load_tool("tests.agents.tools.plugins.nothing:greet")
    with pytest.raises(ValueError, match="has no"):
        load_tool("tests.agents.tools.plugins.custom:nothing")
    with pytest.raises(ValueError, match="module:function"):
        load_tool("no_colon")


def test_validation_names_the_field() -> None:
    schema = {
        "type": "object",
        "properties": {
            "point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
        },
        "required": ["point"],
    }
    with pytest.raises(ToolArgumentsInvalid) as missing:
        validate_arguments(schema, {})
    assert missing.value.param == "point"
    with pytest.raises(ToolArgumentsInvalid) as nested:
        validate_arguments(schema, {"point": {"x": "one"}})
    assert nested.value.param == "point.x"
    assert nested.value.status == 422
