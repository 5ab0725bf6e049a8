"""Gateway configs and readers for the budget tests: YAML keys with `budget:` and the mock
provider's `echo` model with prices (so every call has a cost)."""

from __future__ import annotations

import time
import uuid
from typing import Any

INPUT_PRICE = 1.0  # US dollars per million tokens
OUTPUT_PRICE = 2.0
PRICED = "priced-echo"


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def config(keys: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    """The mock provider, `priced-echo` with prices, and `keys` (each with its `budget`)."""
    return {
        "providers": {"mock": {"type": "mock"}},
        "models": [
            {"name": "echo", "provider": "mock"},
            {"name": PRICED, "provider": "mock", "model": "echo",
             "input_price_per_mtok": INPUT_PRICE, "output_price_per_mtok": OUTPUT_PRICE},
        ],
        "keys": keys,
        **more,
    }


def cost(input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * INPUT_PRICE + output_tokens * OUTPUT_PRICE) / 1_000_000




def wait_for(check: Any, timeout: float = 10.0) -> Any:
    """Poll `check()` until it returns something truthy (state another process writes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
