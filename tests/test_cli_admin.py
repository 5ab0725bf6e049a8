"""`relaygate keys|tenants|usage` against a real gateway's admin API (a `relaygate serve`
subprocess), called in process; the keys they make are used with the official openai SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from relaygate.cli import main
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

ADMIN_KEY = "admin-cli-test-key-0123456789"
CONFIG: dict[str, Any] = {
    "providers": {"mock": {"type": "mock"}},
    "models": [{"name": "mock", "provider": "mock"}, {"name": "echo", "provider": "mock"}],
    "admin": {"key": ADMIN_KEY},
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with run_gateway(tmp_path_factory.mktemp("cli-admin"), CONFIG) as process:
        yield process


@pytest.fixture(autouse=True)
def _admin_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYGATE_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.delenv("RELAYGATE_URL", raising=False)


def run(
    capsys: pytest.CaptureFixture[str], gateway_url: str, *args: str
) -> tuple[int, str, str]:
    """`relaygate ARGS --url URL`: the exit code, stdout and stderr."""
    code = main([*args, "--url", gateway_url])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], gateway_url: str, *args: str) -> Any:
    code, out, err = run(capsys, gateway_url, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def chat(gateway: GatewayProcess, secret: str, model: str = "mock") -> str:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=secret, max_retries=0)
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello there"}]
    )
    return reply.choices[0].message.content or ""


def test_a_created_key_works_with_the_openai_sdk_until_revoked(
    gateway: GatewayProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    url = gateway.base_url
    code, out, err = run(capsys, url, "tenants", "create", "cli-acme", "--models", "mock,echo",
                         "--budget-usd", "25", "--rpm", "100")
    assert (code, err) == (0, "")
    assert "$25.00/month hard" in out and "rpm=100" in out

    code, out, err = run(capsys, url, "keys", "create", "--tenant", "cli-acme", "--name",
                         "ci", "--models", "mock", "--budget-usd", "1.5", "--budget-period",
                         "day", "--budget-mode", "soft", "--metadata", "team=search")
    assert code == 0, err
    secret = next(line.split()[-1] for line in out.splitlines() if "secret:" in line)
    assert secret.startswith("rg-")
    assert "will not be shown again" in out
    assert "$1.50/day soft" in out and "team=search" in out
    key_id = out.split()[1]

    assert "relaygate mock" in chat(gateway, secret)
    with pytest.raises(openai.PermissionDeniedError):  # the key's models: mock only
        chat(gateway, secret, model="echo")

    code, out, _ = run(capsys, url, "keys", "list", "--tenant", "cli-acme")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "TENANT", "NAME", "PREFIX", "STATUS", "MODELS", "BUDGET",
                              "EXPIRES"]
    assert row.split()[:6] == [key_id, "cli-acme", "ci", secret[:8] + "…", "active", "mock"]
    assert secret not in out  # a listing never shows the secret

    shown = run_json(capsys, url, "keys", "show", key_id)
    assert shown["id"] == key_id and "key" not in shown
    assert shown["metadata"] == {"team": "search"}

    code, out, _ = run(capsys, url, "keys", "revoke", key_id)
    assert (code, out.strip()) == (0, f"key {key_id} ({secret[:8]}…) is revoked")
    with pytest.raises(openai.AuthenticationError):
        chat(gateway, secret)
    assert run_json(capsys, url, "keys", "show", key_id)["status"] == "revoked"


def test_rotate_gives_a_new_secret_and_ends_the_old_one_after_the_grace(
    gateway: GatewayProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    url = gateway.base_url
    run_json(capsys, url, "tenants", "create", "cli-rotate")
    code, out, err = run(capsys, url, "keys", "create", "--tenant", "cli-rotate", "--json")
    assert code == 0 and "will not be shown again" in err  # stdout: only the JSON
    created = json.loads(out)
    rotated = run_json(capsys, url, "keys", "rotate", created["id"], "--grace-seconds", "600")
    assert rotated["key"] != created["key"]
    assert rotated["previous_key_valid_until"] is not None
    assert chat(gateway, rotated["key"]) and chat(gateway, created["key"])  # both, in the grace

    code, out, _ = run(capsys, url, "keys", "rotate", created["id"], "--grace-seconds", "0")
    assert code == 0 and "will not be shown again" in out
    newest = next(line.split()[-1] for line in out.splitlines() if "secret:" in line)
    assert chat(gateway, newest)
    with pytest.raises(openai.AuthenticationError):
        chat(gateway, rotated["key"])


def test_tenants_list_show_and_update(
    gateway: GatewayProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    url = gateway.base_url
    run_json(capsys, url, "tenants", "create", "cli-team", "--models", "mock")
    updated = run_json(capsys, url, "tenants", "update", "cli-team", "--budget-tokens", "5000",
                       "--budget-period", "week", "--tpm", "900")
    assert updated["budget"]["max_tokens"] == 5000 and updated["limits"] == {"tpm": 900}
    code, out, _ = run(capsys, url, "tenants", "show", "cli-team")
    assert code == 0 and "0 of 5000 tokens (0%)/week hard" in out and "tpm=900" in out
    code, out, _ = run(capsys, url, "tenants", "list")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("cli-team "))
    assert row.split()[:2] == ["cli-team", "mock"]
    listed = run_json(capsys, url, "tenants", "list")
    assert "cli-team" in [tenant["name"] for tenant in listed["data"]]


def test_a_wrong_admin_key_is_one_line_and_exit_1(
    gateway: GatewayProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYGATE_ADMIN_KEY", "not-the-admin-key-at-all")
    code, out, err = run(capsys, gateway.base_url, "tenants", "create", "never-made")
    assert (code, out, err) == (1, "", "relaygate: Incorrect admin key.\n")
    monkeypatch.setenv("RELAYGATE_ADMIN_KEY", ADMIN_KEY)
    code, _, err = run(capsys, gateway.base_url, "tenants", "show", "never-made")
    assert (code, err) == (1, "relaygate: No tenant named 'never-made'.\n")


def test_api_errors_name_the_field(
    gateway: GatewayProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, gateway.base_url, "keys", "create", "--tenant", "nobody")
    assert code == 1 and out == ""
    assert err.startswith("relaygate: Invalid value for 'tenant': no tenant named 'nobody'")
    assert err.count("\n") == 1
    code, _, err = run(capsys, gateway.base_url, "keys", "create", "--tenant", "nobody",
                       "--expires-at", "2001-01-01T00:00:00Z")
    assert code == 1 and "expires_at" in err


def test_the_admin_key_from_a_file(
    gateway: GatewayProcess, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.delenv("RELAYGATE_ADMIN_KEY")
    key_file = tmp_path / "admin-key"
    key_file.write_text(ADMIN_KEY + "\n")
    code, _, err = run(capsys, gateway.base_url, "tenants", "list",
                       "--admin-key-file", str(key_file))
    assert (code, err) == (0, "")
    code, _, err = run(capsys, gateway.base_url, "tenants", "list")
    assert code == 2 and "set $RELAYGATE_ADMIN_KEY or pass --admin-key-file" in err
    code, _, err = run(capsys, gateway.base_url, "tenants", "list",
                       "--admin-key-file", str(tmp_path / "missing"))
    assert code == 2 and "cannot read the admin key file" in err


@pytest.mark.parametrize("args", [
    ["keys", "create"],  # --tenant is required
    ["keys", "rotate"],  # which key
    ["keys", "create", "--tenant", "t", "--rpm", "many"],
    ["usage", "--group-by", "colour"],
    ["keys", "list", "--admin-key", ADMIN_KEY],  # no such option: a key is no argument
])
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert "usage: relaygate" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["keys", "create", "--tenant", "t", "--budget-mode", "soft"],  # no cap
    ["keys", "update", "key_x"],  # nothing to change
    ["tenants", "create", "t", "--metadata", "no-equals-sign"],
])
def test_option_errors_exit_2_before_any_call(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*args, "--url", "http://127.0.0.1:9"])  # nothing listens: never called
    assert code == 2
    assert capsys.readouterr().err.startswith("relaygate: ")


USAGE_BY_MODEL = {"object": "list", "data": [
    {"group": "mock", "requests": 3, "input_tokens": 30, "output_tokens": 12,
     "cached_tokens": 0, "cost_usd": 0.0021},
    {"group": "echo", "requests": 1, "input_tokens": 5, "output_tokens": 5, "cost_usd": None},
]}


@pytest.fixture(scope="module")
def usage_api() -> Iterator[ThreadedServer]:
    """A stand-in for `GET /admin/usage` (built in another piece of this issue), answering
    the shape `relaygate.admin_client.tables.usage_rows` reads, and what it was asked."""

    async def usage(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {ADMIN_KEY}":
            return JSONResponse({"error": {"message": "Incorrect admin key."}}, status_code=401)
        return JSONResponse({**USAGE_BY_MODEL, "asked": dict(request.query_params)})

    with ThreadedServer(Starlette(routes=[Route("/admin/usage", usage)])) as server:
        yield server


def test_usage_table_and_csv(
    usage_api: ThreadedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = run_json(capsys, usage_api.base_url, "usage", "--group-by", "model",
                      "--from", "2030-01-01", "--to", "2030-02-01")
    assert answer["asked"] == {"group_by": "model", "from": "2030-01-01", "to": "2030-02-01"}
    code, out, _ = run(capsys, usage_api.base_url, "usage")
    assert code == 0
    assert [line.split() for line in out.splitlines()] == [
        ["MODEL", "REQUESTS", "INPUT", "OUTPUT", "CACHED", "COST"],
        ["mock", "3", "30", "12", "0", "$0.0021"],
        ["echo", "1", "5", "5", "0", "-"],  # no price known: no made-up $0
    ]
    code, out, _ = run(capsys, usage_api.base_url, "usage", "--group-by", "model", "--csv")
    assert code == 0
    assert out.splitlines() == [
        "model,requests,input_tokens,output_tokens,cached_tokens,cost_usd",
        "mock,3,30,12,0,0.0021",
        "echo,1,5,5,0,",
    ]


def test_the_command_loads_no_http_client_until_an_admin_command_runs() -> None:
    """`relaygate serve` builds the same parser: the admin client stays out of its memory."""
    script = ("import sys, relaygate.cli\n"
              "relaygate.cli.build_parser()\n"
              "print(sorted({'httpx', 'relaygate.admin_client.api'} & set(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
