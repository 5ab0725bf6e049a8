"""Retries, breakers, fallbacks and timeouts, end to end: the official OpenAI SDK (no retries
of its own) against an in-process gateway on a real port, in front of a fault-injecting
upstream (tests/support/faulty_upstream.py) and the fake Anthropic."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.support.faulty_upstream import Fault
from tests.support.routing_gateway import HELLO, Upstreams, client, in_process_gateway
from tests.support.servers import free_port, unanswered_port

FAST_RETRIES = {"backoff_seconds": 0.001, "max_backoff_seconds": 0.01}


def two_deployments(upstreams: Upstreams, **routing: Any) -> dict[str, Any]:
    return {
        "providers": {"a": upstreams.openai("a"), "b": upstreams.openai("b")},
        "models": [
            {"name": "gpt", "provider": "a", "model": "m", "id": "a",
             "timeout": {"first_byte": 0.2}},
            {"name": "gpt", "provider": "b", "model": "m", "id": "b",
             "timeout": {"first_byte": 0.2}},
        ],
        "routing": {"default": {"retries": FAST_RETRIES}, **routing},
    }


def test_one_deployment_failing_half_its_calls_costs_no_client_a_failure(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("mix", rate=0.5)  # 500, reset, hang (timeout) in turn
    config = two_deployments(upstreams, default={
        "retries": FAST_RETRIES,
        "breaker": {"failures": 3, "cooldown_seconds": 0.5, "min_calls": 10},
    })
    served: dict[str, int] = {}
    errors = 0
    first_hundred_to_a = 0
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        for index in range(1000):
            try:
                reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
            except openai.APIError:
                errors += 1
                continue
            deployment = reply.headers["x-relaygate-deployment"]
            served[deployment] = served.get(deployment, 0) + 1
            if index == 99:
                first_hundred_to_a = upstreams.faulty.calls["a"]
        health = httpx.get(f"{gateway.base_url}/healthz").json()
    calls, failures = dict(upstreams.faulty.calls), dict(upstreams.faulty.failures)
    print(f"\n1,000 calls: client errors {errors}; served by {served}; upstream calls {calls}, "
          f"injected failures {failures}; calls to `a` in the first 100: {first_hundred_to_a}")
    assert errors == 0
    assert calls["a"] + calls["b"] >= 1000
    later_share = (calls["a"] - first_hundred_to_a) / (calls["a"] + calls["b"] - 100)
    assert later_share < 0.25  # a 50/50 split without the breaker
    assert {item["deployment"] for item in health["breakers"]} == {"a", "b"}


def test_a_429_cools_that_deployment_down_and_the_next_attempt_goes_elsewhere_at_once(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("429", retry_after=30)
    config = two_deployments(upstreams, default={"strategy": "round_robin",
                                                 "retries": FAST_RETRIES})
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        started = time.monotonic()
        first = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
        assert time.monotonic() - started < 1
        assert first.headers["x-relaygate-deployment"] == "b"
        assert first.headers["x-relaygate-attempts"] == "2"
        for _ in range(6):
            reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
            assert reply.headers["x-relaygate-deployment"] == "b"
            assert reply.headers["x-relaygate-attempts"] == "1"
        states = {item["deployment"]: item["state"]
                  for item in httpx.get(f"{gateway.base_url}/healthz").json()["breakers"]}
        metrics = httpx.get(f"{gateway.base_url}/metrics").text
    assert upstreams.faulty.calls["a"] == 1
    assert ('relaygate_deployment_failures_total{class="rate_limit",deployment="a",model="gpt"} '
            "1.0") in metrics
    assert 'relaygate_deployment_breaker_state{deployment="a",model="gpt"} 2.0' in metrics
    assert 'relaygate_deployment_attempts_total{deployment="b",model="gpt",status="200"} 7.0' \
        in metrics
    # the latency of each served attempt, none of the 429
    assert 'relaygate_deployment_seconds_count{deployment="b",model="gpt"} 7.0' in metrics
    assert 'relaygate_deployment_seconds_count{deployment="a",model="gpt"} 0.0' in metrics
    assert states == {"a": "open", "b": "closed"}


def test_a_single_deployment_waits_out_a_short_retry_after(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("429", rate=1.0, retry_after=0.3)
    config = {
        "providers": {"a": upstreams.openai("a")},
        "models": [{"name": "gpt", "provider": "a", "model": "m"}],
        "routing": {"models": {"gpt": {"retries": {"count": 1, **FAST_RETRIES}}}},
    }
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        started = time.monotonic()
        with pytest.raises(openai.RateLimitError):
            sdk.chat.completions.create(model="gpt", messages=HELLO)
        waited = time.monotonic() - started
    assert upstreams.faulty.calls["a"] == 2  # the retry came after the Retry-After
    assert waited >= 0.3


@pytest.mark.parametrize("kind", ["500", "503", "reset", "reset_mid", "malformed", "hang"])
def test_each_kind_of_failure_is_retried_on_the_other_deployment(
    tmp_path: Path, upstreams: Upstreams, kind: str
) -> None:
    upstreams.faulty.faults["a"] = Fault(kind)
    config = two_deployments(upstreams, default={"strategy": "round_robin",
                                                 "retries": FAST_RETRIES})
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        for _ in range(2):  # one of the two starts at `a`
            reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
            assert reply.headers["x-relaygate-deployment"] == "b"
            assert reply.parse().choices[0].message.content == "hello [b]"
    assert upstreams.faulty.calls["a"] == 1


def test_a_request_at_fault_is_not_retried(tmp_path: Path, upstreams: Upstreams) -> None:
    config = two_deployments(upstreams)
    with in_process_gateway(tmp_path, config) as gateway:
        with pytest.raises(openai.BadRequestError):
            client(gateway.base_url).chat.completions.create(
                model="gpt", messages=[{"role": "wizard", "content": "hi"}]  # type: ignore[misc,list-item]
            )
    assert upstreams.faulty.calls["a"] + upstreams.faulty.calls["b"] == 0


def test_every_deployment_down_the_fallback_group_serves_across_formats(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("500")
    upstreams.faulty.faults["b"] = Fault("503")
    config = two_deployments(upstreams, fallbacks={"gpt": ["claude"]})
    config["providers"]["anthropic"] = upstreams.anthropic_provider()
    config["models"].append({"name": "claude", "provider": "anthropic",
                             "model": "claude-sonnet-4-5"})
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
        completion = reply.parse()
        stream = sdk.chat.completions.create(model="gpt", messages=HELLO, stream=True)
        streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream
                           if chunk.choices)
    assert reply.headers["x-relaygate-fallback"] == "claude"
    assert reply.headers["x-relaygate-deployment"] == "claude"
    assert reply.headers["x-relaygate-attempts"] == "3"
    assert reply.headers["x-relaygate-served-by"] == "anthropic/claude-sonnet-4-5"
    assert completion.choices[0].message.content == "hello"  # the Anthropic fake's answer
    assert completion.model == "gpt"
    assert streamed == "hello"
    assert upstreams.anthropic.requests[-1]["model"] == "claude-sonnet-4-5"


def test_a_context_length_error_goes_to_the_bigger_window(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["small"] = Fault("context")
    config = {
        "providers": {"small": upstreams.openai("small"), "big": upstreams.openai("big")},
        "models": [{"name": "gpt", "provider": "small", "model": "m"},
                   {"name": "gpt-long", "provider": "big", "model": "m-long"}],
        "routing": {"context_window_fallbacks": {"gpt": ["gpt-long"]}},
    }
    with in_process_gateway(tmp_path, config) as gateway:
        reply = client(gateway.base_url).chat.completions.with_raw_response.create(
            model="gpt", messages=HELLO
        )
    assert reply.headers["x-relaygate-fallback"] == "gpt-long"
    assert reply.parse().choices[0].message.content == "hello [big]"
    assert upstreams.faulty.calls == {"small": 1, "big": 1}


def test_a_content_filter_refusal_goes_to_the_content_policy_fallback(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["strict"] = Fault("policy")
    config = {
        "providers": {"strict": upstreams.openai("strict"), "lenient": upstreams.openai("lenient")},
        "models": [{"name": "gpt", "provider": "strict", "model": "m"},
                   {"name": "other", "provider": "lenient", "model": "m"}],
        "routing": {"content_policy_fallbacks": {"gpt": ["other"]}, "fallbacks": {}},
    }
    with in_process_gateway(tmp_path, config) as gateway:
        reply = client(gateway.base_url).chat.completions.with_raw_response.create(
            model="gpt", messages=HELLO
        )
    assert reply.headers["x-relaygate-fallback"] == "other"
    assert upstreams.faulty.calls == {"strict": 1, "lenient": 1}


def test_without_a_fallback_the_upstream_error_reaches_the_client(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("500")
    upstreams.faulty.faults["b"] = Fault("500")
    with in_process_gateway(tmp_path, two_deployments(upstreams)) as gateway:
        with pytest.raises(openai.InternalServerError) as caught:
            client(gateway.base_url).chat.completions.create(model="gpt", messages=HELLO)
    assert caught.value.status_code == 502
    assert upstreams.faulty.calls == {"a": 1, "b": 1}  # the default: one per other deployment


def test_an_input_counted_too_long_for_the_window_skips_it(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = {
        "providers": {"small": upstreams.openai("small"), "big": upstreams.openai("big")},
        "models": [{"name": "gpt", "provider": "small", "model": "m", "context_window": 50},
                   {"name": "gpt-long", "provider": "big", "model": "m-long"}],
        "routing": {"context_window_fallbacks": {"gpt": ["gpt-long"]}},
    }
    long_prompt: list[ChatCompletionMessageParam] = [{"role": "user", "content": "word " * 200}]
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        short = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
        long = sdk.chat.completions.with_raw_response.create(model="gpt", messages=long_prompt)
    assert "x-relaygate-fallback" not in short.headers
    assert long.headers["x-relaygate-fallback"] == "gpt-long"
    assert upstreams.faulty.calls == {"small": 1, "big": 1}  # the long one never went to `small`


def test_a_stream_cut_before_its_first_chunk_fails_over(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("cut_before_first")
    config = two_deployments(upstreams, default={"strategy": "round_robin",
                                                 "retries": FAST_RETRIES})
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        for _ in range(2):
            stream = sdk.chat.completions.create(model="gpt", messages=HELLO, stream=True)
            text = "".join(chunk.choices[0].delta.content or "" for chunk in stream
                           if chunk.choices)
            assert text == "hello [b]"
    assert upstreams.faulty.calls["a"] == 1


def test_a_stream_cut_after_its_first_byte_ends_with_the_error_event(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("cut_after_first")
    upstreams.faulty.faults["b"] = Fault("cut_after_first")
    config = two_deployments(upstreams)
    with in_process_gateway(tmp_path, config) as gateway:
        with httpx.stream("POST", f"{gateway.base_url}/v1/chat/completions", json={
            "model": "gpt", "messages": HELLO, "stream": True,
        }, timeout=10) as response:
            assert response.status_code == 200
            body = response.read().decode()
        sdk = client(gateway.base_url)
        stream = sdk.chat.completions.create(model="gpt", messages=HELLO, stream=True)
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass
    events = [line for line in body.splitlines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert '"error"' in events[-2]
    assert upstreams.faulty.calls["a"] + upstreams.faulty.calls["b"] == 2  # never retried


def test_a_stalled_stream_ends_after_its_idle_timeout(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["slow"] = Fault("trickle", delay=0.5)
    config = {
        "providers": {"slow": upstreams.openai("slow")},
        "models": [{"name": "gpt", "provider": "slow", "model": "m",
                    "timeout": {"stream_idle": 0.1}}],
    }
    with in_process_gateway(tmp_path, config) as gateway:
        started = time.monotonic()
        body = httpx.post(f"{gateway.base_url}/v1/chat/completions", json={
            "model": "gpt", "messages": HELLO, "stream": True}, timeout=10).text
    assert time.monotonic() - started < 0.45
    assert "stalled mid-stream" in body
    assert body.rstrip().endswith("data: [DONE]")


def test_a_request_lowers_the_timeout_with_a_header(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("ok", delay=0.5)
    config = {
        "providers": {"a": upstreams.openai("a")},
        "models": [{"name": "gpt", "provider": "a", "model": "m", "timeout": {"total": 5}}],
    }
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        assert sdk.chat.completions.create(model="gpt", messages=HELLO).choices
        started = time.monotonic()
        with pytest.raises(openai.APIStatusError) as caught:
            sdk.chat.completions.create(model="gpt", messages=HELLO,
                                        extra_headers={"x-relaygate-timeout": "0.1"})
    assert caught.value.status_code == 504
    assert time.monotonic() - started < 0.45


def test_an_anthropic_client_is_failed_over_between_openai_deployments(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    upstreams.faulty.faults["a"] = Fault("503")
    config = two_deployments(upstreams, default={"strategy": "round_robin",
                                                 "retries": FAST_RETRIES})
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = anthropic.Anthropic(base_url=gateway.base_url, api_key="unused", max_retries=0)
        texts = []
        for _ in range(2):
            message = sdk.messages.create(model="gpt", max_tokens=50, messages=[
                {"role": "user", "content": "hello"}])
            block = message.content[0]
            assert isinstance(block, anthropic.types.TextBlock)
            texts.append(block.text)
        upstreams.faulty.faults["b"] = Fault("cut_after_first")
        upstreams.faulty.faults["a"] = Fault("cut_after_first")
        with pytest.raises(anthropic.APIStatusError):
            with sdk.messages.stream(model="gpt", max_tokens=50, messages=[
                    {"role": "user", "content": "hello"}]) as stream:
                for _ in stream:
                    pass
    assert texts == ["hello [b]", "hello [b]"]


def test_a_deployment_refusing_connections_is_failed_over(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = two_deployments(upstreams, default={"strategy": "round_robin",
                                                 "retries": FAST_RETRIES})
    config["providers"]["a"]["base_url"] = f"http://127.0.0.1:{free_port()}/v1"  # nothing there
    with in_process_gateway(tmp_path, config) as gateway:
        sdk = client(gateway.base_url)
        for _ in range(2):
            reply = sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
            assert reply.headers["x-relaygate-deployment"] == "b"
        metrics = httpx.get(f"{gateway.base_url}/metrics").text
    assert 'relaygate_deployment_failures_total{class="connection",deployment="a",model="gpt"}' \
        in metrics


def test_a_deployments_own_connect_timeout_fails_it_over_before_the_providers(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = two_deployments(upstreams, default={"strategy": "round_robin",
                                                 "retries": FAST_RETRIES})
    with unanswered_port() as port:
        with pytest.raises(TimeoutError), socket.create_connection(("127.0.0.1", port), 0.1):
            pass  # the port really does not answer
        provider = config["providers"]["a"]
        provider["base_url"] = f"http://127.0.0.1:{port}/v1"
        provider["timeout"] = {"connect": 30, "read": 30}  # the provider's: far too long
        config["models"][0]["timeout"] = {"connect": 0.2, "first_byte": 30}
        with in_process_gateway(tmp_path, config) as gateway:
            sdk = client(gateway.base_url)
            started = time.monotonic()
            replies = [sdk.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
                       for _ in range(2)]
            elapsed = time.monotonic() - started
            metrics = httpx.get(f"{gateway.base_url}/metrics").text
    assert [reply.headers["x-relaygate-deployment"] for reply in replies] == ["b", "b"]
    assert sorted(reply.headers["x-relaygate-attempts"] for reply in replies) == ["1", "2"]
    assert elapsed < 3  # one 0.2 s connect timeout, not the provider's 30 s
    assert 'relaygate_deployment_failures_total{class="timeout",deployment="a",model="gpt"} 1.0' \
        in metrics
