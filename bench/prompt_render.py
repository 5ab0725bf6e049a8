"""What a prompt template adds to a call: the step's lookup (in-process cache), the version
choice (an A/B split), the render and the new canonical call, timed per call (p50, p99).

    PYTHONPATH=src python bench/prompt_render.py [--calls 20000]

No server and no socket: a SQLite file in a temporary directory holds the template; the
first lookup reads it, the rest come from the cache (the point of the measure)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Answer, Call, Endpoint
from relaygate.prompts.content import VersionContent
from relaygate.prompts.ref import PromptRef
from relaygate.prompts.service import Prompts
from relaygate.prompts.step import PromptStep
from relaygate.store.db import Database
from relaygate.store.prompts import PromptStore
from relaygate.store.schema import upgrade
from relaygate.streaming.bus import MemoryBus
from relaygate.types import Message, ModelCall, Role, TextPart

CONTENT: dict[str, Any] = {
    "instructions": "You are {{ persona }}. Answer in {{ language }}.",
    "messages": [
        {"role": "system", "content": "{% for rule in rules %}- {{ rule }}\n{% endfor %}"},
        {"role": "user", "content": "Customer {{ customer.name }} ({{ customer.tier }}) asks:"},
    ],
    "variables": [
        {"name": "persona"}, {"name": "language", "required": False, "default": "English"},
        {"name": "rules", "type": "array"}, {"name": "customer", "type": "object"},
    ],
}
VARIABLES = {"persona": "a support agent", "rules": ["be brief", "be kind", "cite sources"],
             "customer": {"name": "Ada", "tier": "gold"}}


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        database = Database(url)
        store = PromptStore(database)
        VersionContent.model_validate(CONTENT)
        template = await store.create("bench", None, CONTENT)
        await store.add_version(template.id, CONTENT)
        await store.set_label(template.id, "production", {"v1": 50, "v2": 50})

        async def opened() -> PromptStore:
            return store

        step = PromptStep(Prompts(opened, MemoryBus(), ttl=3600))
        principal = Principal(tenant="acme", key_id="key_1")

        async def answered(call: Call) -> Answer:
            return None  # type: ignore[return-value]  # the step's own cost only

        user = Message(Role.USER, [TextPart("Where is my order?")])
        timings: list[float] = []
        for number in range(calls):
            call = Call(request_id=f"req_{number}", principal=principal, endpoint=Endpoint.CHAT,
                        model="mock", stream=False,
                        model_call=ModelCall(model="mock", messages=[user]))
            call.prompt = PromptRef("bench", variables=VARIABLES, sticky=f"user-{number}")
            started = time.perf_counter()
            await step(call, answered)
            timings.append(time.perf_counter() - started)
        await database.close()
    timings = timings[1:]  # the first call read the database
    timings.sort()
    p50 = statistics.median(timings) * 1e6
    p99 = timings[int(len(timings) * 0.99)] * 1e6
    print(f"prompt step (lookup + A/B choice + render + new call): p50 {p50:.1f} µs, "
          f"p99 {p99:.1f} µs over {len(timings)} calls")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().calls))
