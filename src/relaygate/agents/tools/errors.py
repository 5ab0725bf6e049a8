"""Tool errors, placed in the gateway's error tree so every front renders them.

ToolNotFound           404  the name is not registered (or not visible to the caller)
ToolDenied             403  a policy does not allow the caller this tool
ToolArgumentsInvalid   422  the arguments do not match the tool's JSON schema (param names the field)
ToolFailed             400  the tool ran and failed (zero division…); for the model, a tool error
ToolTimedOut           504  the tool did not finish in time
SandboxUnavailable     503  bubblewrap is missing and unsandboxed runs are not allowed
"""

from __future__ import annotations

from relaygate.errors import GatewayError, InvalidRequest, NotFound, PermissionDenied


class ToolNotFound(NotFound):
    default_code = "tool_not_found"


class ToolDenied(PermissionDenied):
    default_code = "tool_denied"


class ToolArgumentsInvalid(InvalidRequest):
    status = 422
    default_code = "invalid_tool_arguments"


class ToolFailed(GatewayError):
    """A tool's own failure (bad input it detected, a backend error); the message is for the model."""

    status = 400
    type = "tool_error"
    default_code = "tool_failed"


class ToolTimedOut(ToolFailed):
    status = 504
    default_code = "tool_timeout"


class SandboxUnavailable(GatewayError):
    status = 503
    type = "api_error"
    default_code = "sandbox_unavailable"
