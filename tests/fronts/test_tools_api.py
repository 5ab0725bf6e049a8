"""`GET /api/tools` and `POST /api/tools/{name}/invoke` over real HTTP: policies per tenant
and per key, 403/404/422, the sandboxed bash tool, workspaces, custom tools."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import GatewayProcess, run_gateway

ACME, ACME_READONLY, BETA = "acme-key-123456", "acme-ro-123456", "beta-key-123456"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    workspaces = Path(tempfile.mkdtemp(prefix="relaygate-tools-test-"))
    workspaces.chmod(0o755)  # the sandbox uid must be able to reach its workspace
    config = {
        "keys": [
            {"tenant": "acme", "key": ACME, "name": "main"},
            {"tenant": "acme", "key": ACME_READONLY, "name": "readonly"},
            {"tenant": "beta", "key": BETA},
        ],
        "tools": {
            "tenants": {
                "acme": {"mode": "allow_all", "allow": ["bash", "python"]},
                "beta": {
                    "mode": "allow_list",
                    "allow": ["calculator", "echo", "read_file", "whoami"],
                },
            },
            "keys": {"readonly": {"mode": "deny_list", "deny": ["bash", "write_file"]}},
            "custom": [
                "tests.agents.tools.plugins.custom:greet",
                "tests.agents.tools.plugins.custom:whoami",
                "tests.agents.tools.plugins.custom:slow",
            ],
            "workspace_root": str(workspaces),
            "weather_backend": "tests.agents.tools.plugins.custom:failing_weather",
            "sandbox": {"timeout_seconds": 5},
        },
    }
    try:
        with run_gateway(tmp_path_factory.mktemp("tools"), config) as process:
            yield process
    finally:
        shutil.rmtree(workspaces, ignore_errors=True)


def _client(gateway: GatewayProcess, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=gateway.base_url, headers=headers, timeout=30)


def _names(gateway: GatewayProcess, key: str) -> list[str]:
    with _client(gateway, key) as client:
        body = client.get("/api/tools").json()
    assert body["count"] == len(body["tools"])
    return [tool["name"] for tool in body["tools"]]


def test_list_shows_only_what_the_policy_allows(gateway: GatewayProcess) -> None:
    acme = _names(gateway, ACME)
    assert {"calculator", "datetime", "echo", "weather", "web_search", "bash", "greet"} <= set(acme)
    assert "python" in acme and "python" not in _names(gateway, BETA)
    readonly = _names(gateway, ACME_READONLY)
    assert "bash" not in readonly and "write_file" not in readonly and "calculator" in readonly
    assert _names(gateway, BETA) == ["calculator", "echo", "read_file", "whoami"]
    with _client(gateway, ACME) as client:
        calculator = next(
            tool
            for tool in client.get("/api/tools").json()["tools"]
            if tool["name"] == "calculator"
        )
    assert calculator["parameters"]["properties"]["operation"]["enum"][:3] == [
        "add",
        "subtract",
        "multiply",
    ]
    assert calculator["description"]


def test_list_needs_a_key(gateway: GatewayProcess) -> None:
    with _client(gateway, None) as client:
        response = client.get("/api/tools")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_invoke_the_calculator(gateway: GatewayProcess) -> None:
    with _client(gateway, BETA) as client:
        response = client.post(
            "/api/tools/calculator/invoke", json={"a": 5, "b": 3, "operation": "add"}
        )
        expression = client.post(
            "/api/tools/calculator/invoke",
            json={"operation": "evaluate", "formula": "2 * (3 + 4) ** 2"},
        )
    assert response.status_code == 200
    assert response.json()["output"] == {"result": 8}
    assert expression.json()["output"] == {"result": 98}


@pytest.mark.parametrize(
    ("key", "tool", "arguments"),
    [
        (BETA, "weather", {"location": "Paris"}),  # not on beta's allow-list
        (BETA, "python", {"code": "print(1)"}),  # dangerous, not named
        (ACME_READONLY, "bash", {"command": "true"}),  # denied for this key
    ],
)
def test_denied_is_403(
    gateway: GatewayProcess, key: str, tool: str, arguments: dict[str, str]
) -> None:
    with _client(gateway, key) as client:
        response = client.post(f"/api/tools/{tool}/invoke", json=arguments)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tool_denied"


def test_unknown_is_404_and_imported_tools_of_others_stay_hidden(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        response = client.post("/api/tools/nothing_here/invoke", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tool_not_found"


def test_invalid_arguments_are_422_naming_the_field(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        wrong_type = client.post(
            "/api/tools/calculator/invoke", json={"a": "five", "operation": "add"}
        )
        missing = client.post("/api/tools/calculator/invoke", json={"a": 1, "b": 2})
        bad_enum = client.post("/api/tools/calculator/invoke", json={"operation": "cube", "a": 1})
        not_object = client.post("/api/tools/calculator/invoke", json=[1, 2])
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["param"] == "a"
    assert "'five' is not of type 'number'" in wrong_type.json()["error"]["message"]
    assert missing.status_code == 422 and missing.json()["error"]["param"] == "operation"
    assert bad_enum.status_code == 422 and bad_enum.json()["error"]["param"] == "operation"
    assert not_object.status_code == 400


def test_tool_failures_are_clear(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        zero = client.post(
            "/api/tools/calculator/invoke", json={"operation": "divide", "a": 1, "b": 0}
        )
        sqrt = client.post("/api/tools/calculator/invoke", json={"operation": "sqrt", "a": -9})
    assert (
        zero.status_code == 400
        and zero.json()["error"]["message"] == "Division by zero is undefined."
    )
    assert "negative number" in sqrt.json()["error"]["message"]


def test_bash_runs_in_the_sandbox_and_shares_the_workspace(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        written = client.post(
            "/api/tools/write_file/invoke", json={"path": "notes/plan.txt", "content": "step 1"}
        )
        bash = client.post(
            "/api/tools/bash/invoke",
            json={
                "command": "id -u; cat notes/plan.txt; echo; echo out > made.txt; cat /etc/shadow"
            },
        )
        read_back = client.post("/api/tools/read_file/invoke", json={"path": "made.txt"})
        escape = client.post("/api/tools/read_file/invoke", json={"path": "../../etc/passwd"})
    assert written.status_code == 200 and written.json()["output"]["bytes"] == 6
    output = bash.json()["output"]
    assert output["stdout"].splitlines()[:2] == ["65534", "step 1"]
    assert output["exit_code"] != 0 and "No such file" in output["stderr"]
    assert read_back.json()["output"]["content"] == "out\n"
    assert escape.status_code == 400 and "leaves the workspace" in escape.json()["error"]["message"]
    with _client(gateway, BETA) as client:  # another tenant, another workspace
        other = client.post("/api/tools/read_file/invoke", json={"path": "made.txt"})
    assert other.status_code == 400 and "No such file" in other.json()["error"]["message"]


def test_a_failing_backend_is_a_tool_error_not_a_500(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        response = client.post("/api/tools/weather/invoke", json={"location": "Paris"})
        listed = {tool["name"]: tool for tool in client.get("/api/tools").json()["tools"]}
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "tool_error" and "unreachable for Paris" in error["message"]
    assert "DEMO" not in listed["weather"]["description"]  # a real backend is not marked demo


def test_custom_tools_from_config(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        greet = client.post("/api/tools/greet/invoke", json={"name": "Ada", "loud": True})
    with _client(gateway, BETA) as client:
        whoami = client.post("/api/tools/whoami/invoke", json={})
    assert greet.json()["output"] == "HELLO, ADA!"
    assert whoami.json()["output"] == {"tenant": "beta", "style": "short"}


def test_per_tool_metrics(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        client.post("/api/tools/echo/invoke", json={"text": "count me"})
        client.post("/api/tools/echo/invoke", json={"text": 42})
    with _client(gateway, ACME_READONLY) as client:
        client.post("/api/tools/bash/invoke", json={"command": "true"})
        exposition = client.get("/metrics").text
    assert 'relaygate_tool_calls_total{outcome="ok",tool="echo"}' in exposition
    assert 'relaygate_tool_calls_total{outcome="invalid_arguments",tool="echo"} 1.0' in exposition
    assert 'relaygate_tool_calls_total{outcome="denied",tool="bash"}' in exposition
    assert 'relaygate_tool_duration_seconds_count{tool="echo"}' in exposition


def test_python_runs_in_the_sandbox(gateway: GatewayProcess) -> None:
    code = "import os, socket\nprint(sum(range(10)), os.getuid())\nsocket.create_connection(('1.1.1.1', 53), 1)"
    with _client(gateway, ACME) as client:
        response = client.post("/api/tools/python/invoke", json={"code": code})
    output = response.json()["output"]
    assert output["stdout"] == "45 65534\n"
    assert output["exit_code"] == 1 and "Network is unreachable" in output["stderr"]


def test_a_slow_tool_times_out_with_504(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        response = client.post("/api/tools/slow/invoke", json={"seconds": 2})
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "tool_timeout"


def test_timestamp_and_echo(gateway: GatewayProcess) -> None:
    with _client(gateway, ACME) as client:
        now = client.post("/api/tools/timestamp/invoke", json={}).json()["output"]
        epoch = client.post("/api/tools/timestamp/invoke", json={"value": 0}).json()["output"]
        parsed = client.post(
            "/api/tools/timestamp/invoke", json={"value": "2026-01-01T00:00:00Z"}
        ).json()["output"]
        huge = client.post("/api/tools/timestamp/invoke", json={"value": 1e20})
        echoed = client.post("/api/tools/echo/invoke", json={"text": "as is ✓"}).json()
    assert now["unix"] > 1.7e9 and now["iso"].endswith("+00:00")
    assert epoch["iso"] == "1970-01-01T00:00:00+00:00"
    assert parsed["unix"] == 1767225600
    assert huge.status_code == 400 and huge.json()["error"]["param"] == "value"
    assert echoed["output"] == "as is ✓"
