"""Nothing calls a provider but the pipeline's dispatch step: every model call passes the
pipeline (and so its hooks, limits, outcome events…)."""

from __future__ import annotations

import ast
from pathlib import Path

import relaygate

PACKAGE = Path(relaygate.__file__).parent
PROVIDER_METHODS = {"send", "stream", "relay", "relay_stream", "count_tokens"}
DISPATCH = PACKAGE / "pipeline" / "dispatch.py"


def _provider_calls(path: Path) -> list[str]:
    """`<something provider-ish>.send(…)` and the like, as `file:line: source`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in PROVIDER_METHODS:
            continue
        receiver = ast.unparse(node.func.value)
        if "provider" in receiver.lower() or receiver.endswith("route"):
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_dispatch_step_calls_a_provider() -> None:
    outside = [
        call
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != DISPATCH and "providers" not in path.relative_to(PACKAGE).parts
        for call in _provider_calls(path)
    ]
    assert outside == []


def test_the_dispatch_step_does_call_them() -> None:
    """The scan sees real calls (so the test above can fail)."""
    methods = {call.split(": ", 1)[1].split("(")[0].rsplit(".", 1)[1]
               for call in _provider_calls(DISPATCH)}
    assert methods == PROVIDER_METHODS
