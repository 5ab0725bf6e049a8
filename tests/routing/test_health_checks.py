"""Background health checks open a dead deployment's breaker before any client meets it,
and close it again once the deployment answers."""

from __future__ import annotations

from pathlib import Path

from tests.routing.test_rules_and_sharing import breaker_state
from tests.support.faulty_upstream import Fault
from tests.support.routing_gateway import HELLO, Upstreams, client, in_process_gateway


def test_health_checks_open_and_close_a_breaker(tmp_path: Path, upstreams: Upstreams) -> None:
    upstreams.faulty.faults["a"] = Fault("500")
    config = {
        "providers": {"a": upstreams.openai("a"), "b": upstreams.openai("b")},
        "models": [{"name": "gpt", "provider": "a", "model": "m", "id": "a"},
                   {"name": "gpt", "provider": "b", "model": "m", "id": "b"}],
        "routing": {
            "default": {"breaker": {"failures": 2, "cooldown_seconds": 0.2}},
            "health_checks": {"interval_seconds": 0.05, "timeout_seconds": 1},
        },
    }
    with in_process_gateway(tmp_path, config) as gateway:
        assert breaker_state(gateway.base_url, "a", "open") == "open"
        probes = upstreams.faulty.calls["a"]
        sdk = client(gateway.base_url)
        for _ in range(5):
            reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
            assert reply.headers["x-relaygate-deployment"] == "b"
        upstreams.faulty.faults["a"] = Fault("ok")
        assert breaker_state(gateway.base_url, "a", "closed") == "closed"
    assert probes >= 2
    assert upstreams.faulty.models.count("m") >= probes
