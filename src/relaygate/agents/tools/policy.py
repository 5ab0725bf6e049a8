"""Who may use which tool: allow-all, allow-list or deny-list, per tenant and per key.

A tenant's policy (or the default policy) and, when the key has a name with a policy,
the key's policy must both allow a tool. Dangerous tools (bash, python…) are denied
unless a policy that applies names them in `allow` (by exact name). A tool that `needs`
another (delete_file needs write_file) is denied wherever that one is.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from relaygate.agents.tools.base import Tool
from relaygate.config import ToolPolicyMode, ToolPolicySettings, ToolsSettings
from relaygate.pipeline.auth import Principal


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def permits(policy: ToolPolicySettings, name: str) -> bool:
    """Whether one policy lets `name` through (ignoring the dangerous rule)."""
    if _matches(name, policy.deny):
        return False
    if policy.mode is ToolPolicyMode.ALLOW_LIST:
        return _matches(name, policy.allow)
    return True


class ToolPolicies:
    """The policies from config, answering `allows(principal, tool)`."""

    def __init__(self, settings: ToolsSettings) -> None:
        self._settings = settings

    def applicable(self, principal: Principal) -> list[ToolPolicySettings]:
        tenant = self._settings.tenants.get(principal.tenant, self._settings.default_policy)
        policies = [tenant]
        if principal.key_name is not None and principal.key_name in self._settings.keys:
            policies.append(self._settings.keys[principal.key_name])
        if principal.grant is not None:  # a database key's and its tenant's `tools:`
            policies.extend(principal.grant.tools)
        return policies

    def allows(self, principal: Principal, tool: Tool) -> bool:
        if tool.tenant is not None and tool.tenant != principal.tenant:
            return False
        policies = self.applicable(principal)
        if not all(permits(policy, tool.name) for policy in policies):
            return False
        if tool.needs is not None and not all(permits(p, tool.needs) for p in policies):
            return False
        if tool.dangerous:
            return any(tool.name in policy.allow for policy in policies)
        return True

    def reason(self, principal: Principal, tool: Tool) -> str:
        """Why `tool` is denied, for the 403 message."""
        if tool.dangerous and all(permits(p, tool.name) for p in self.applicable(principal)):
            return (
                f"The tool {tool.name!r} is dangerous and is denied unless a policy names it "
                f"(tools.tenants.{principal.tenant}.allow)."
            )
        return f"The tool {tool.name!r} is not allowed for this key by the tool policy."
