"""A retried call holds its concurrency slot until its last attempt ends (a failed first
attempt does not free it), and the slot comes back once, after the call."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import openai
import pytest

from tests.routing.test_failover import two_deployments
from tests.support.faulty_upstream import Fault
from tests.support.routing_gateway import HELLO, Upstreams, client, in_process_gateway

KEY = "sk-limited-retries-0123456789"


def test_a_slot_is_held_across_retries_and_released_once(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("500")  # a call that tries `a` first is retried on b
    upstreams.faulty.faults["b"] = Fault("ok", delay=0.8)
    config = two_deployments(upstreams, default={
        "strategy": "round_robin", "retries": {"backoff_seconds": 0.001},
    })
    for model in config["models"]:
        model["timeout"] = {"first_byte": 5}
    config["keys"] = [{"key": KEY, "tenant": "t", "limits": {"max_concurrent": 1}}]
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url).with_options(api_key=KEY)
        served: list[str] = []

        def call() -> None:
            reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
            served.append(reply.headers["x-relaygate-deployment"])

        for _ in range(2):  # round robin: one of the two tries `a` first
            first = threading.Thread(target=call)
            first.start()
            time.sleep(0.3)  # the first call is in flight (waiting on b)
            with pytest.raises(openai.RateLimitError):
                sdk.chat.completions.create(model="gpt", messages=HELLO)
            first.join()
        assert served == ["b", "b"]
        assert sdk.chat.completions.create(model="gpt", messages=HELLO).choices
    assert upstreams.faulty.calls["a"] >= 1  # one call was retried after a failed attempt
