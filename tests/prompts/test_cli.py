"""`relaygate prompts …` against the module's gateway (a real socket), called in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relaygate.cli import main
from tests.prompts.conftest import ADMIN_KEY
from tests.support.servers import ThreadedServer


def test_the_prompts_commands(server: ThreadedServer, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYGATE_ADMIN_KEY", ADMIN_KEY)
    url = ["--url", server.base_url]
    first = tmp_path / "v1.yaml"
    first.write_text("messages:\n  - role: system\n    content: Be {{ tone }}.\n"
                     "variables:\n  - name: tone\n")
    second = tmp_path / "v2.json"
    second.write_text(json.dumps({"messages": [{"role": "system", "content": "Be brief."}]}))
    assert main(["prompts", "create", "cli-notes", "--file", str(first), "--json", *url]) == 0
    out = capsys.readouterr().out  # the server's log lines share this stdout
    template, _ = json.JSONDecoder().raw_decode(out, out.index('{\n  "id"'))
    assert template["latest_version"] == "v1"
    assert main(["prompts", "version", "cli-notes", "--file", str(second), *url]) == 0
    assert "v2 created" in capsys.readouterr().out
    assert main(["prompts", "label", "cli-notes", "production", "--weights", "v1=50,v2=50",
                 *url]) == 0
    assert "production=v1:50/v2:50" in capsys.readouterr().out
    assert main(["prompts", "diff", "cli-notes", "--from", "v1", "--to", "v2", *url]) == 0
    assert "Be brief." in capsys.readouterr().out
    assert main(["prompts", "show", template["id"], *url]) == 0
    assert "v2: system" in capsys.readouterr().out
    assert main(["prompts", "list", *url]) == 0
    assert "cli-notes" in capsys.readouterr().out
    assert main(["prompts", "label", "cli-notes", "x", *url]) == 2  # neither option
    capsys.readouterr()
    assert main(["prompts", "diff", "cli-notes", "--from", "v1", "--to", "v7", *url]) == 1
    assert "no version 'v7'" in capsys.readouterr().err
    assert main(["prompts", "archive", "cli-notes", *url]) == 0
    assert "archived" in capsys.readouterr().out
