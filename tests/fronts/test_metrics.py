"""`GET /metrics` counts model requests and tokens per model, provider and tenant."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import GatewayProcess


def _samples(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{base_url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_and_tokens_are_counted(gateway: GatewayProcess) -> None:
    body = {"model": "echo", "messages": [{"role": "user", "content": "count these four"}]}
    for _ in range(3):
        assert httpx.post(f"{gateway.base_url}/v1/chat/completions", json=body).status_code == 200
    samples = _samples(gateway.base_url)
    labels = (("model", "echo"), ("provider", "mock"), ("status", "200"), ("tenant", "default"))
    assert samples[("relaygate_requests_total", labels)] >= 3
    output = (("direction", "output"), ("model", "echo"), ("provider", "mock"), ("tenant", "default"))
    assert samples[("relaygate_tokens_total", output)] >= 9  # three answers of three tokens
