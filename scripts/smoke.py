"""Smoke-test real upstreams: one small call per configured model, one line each.

    python scripts/smoke.py --config relaygate.yaml [--stream] [--timeout 30]

Calls go straight through the gateway's own provider objects (no server needed), so
a line shows exactly what the gateway would get from that upstream. Upstream failures
are printed as such (status and the upstream's message); the exit code is 1 if any
call failed. Keys come from the config file (`${ENV_VAR}` interpolation applies).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

from relaygate.config import ConfigError, Settings, load_settings
from relaygate.errors import GatewayError
from relaygate.providers.base import Provider
from relaygate.providers.factory import build_providers
from relaygate.types import (
    ErrorEvent,
    Finish,
    Message,
    ModelCall,
    Role,
    TextDelta,
    TextPart,
    Usage,
    UsageEvent,
)

PROMPT = "Reply with the single word: pong"


@dataclass
class Line:
    ok: bool
    model: str
    provider: str
    detail: str
    seconds: float

    def render(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.model:<28} {self.provider:<16} {self.seconds:6.2f}s  {self.detail}"


def _usage(usage: Usage | None) -> str:
    if usage is None:
        return "usage=none"
    return f"in={usage.input_tokens} out={usage.output_tokens} usage={usage.source.value}"


async def _call(provider: Provider, model: str, stream: bool) -> str:
    call = ModelCall(model, [Message(Role.USER, [TextPart(PROMPT)])], max_tokens=32, stream=stream)
    if not stream:
        result = await provider.send(call, model)
        text = result.message.text.strip().replace("\n", " ")
        return f"{text[:40]!r} finish={result.finish_reason.value} {_usage(result.usage)}"
    text, usage, finish = "", None, "none"
    async for event in provider.stream(call, model):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, UsageEvent):
            usage = event.usage
        elif isinstance(event, Finish):
            finish = event.reason.value
        elif isinstance(event, ErrorEvent):
            raise GatewayError(event.message, status=event.status)
    return f"{text.strip()[:40]!r} finish={finish} {_usage(usage)} (streamed)"


async def check(
    name: str, provider: Provider, kind: str, model: str, stream: bool, seconds: float
) -> Line:
    started = time.perf_counter()
    label = f"{name}:{kind}"
    try:
        detail = await asyncio.wait_for(_call(provider, model, stream), seconds)
    except TimeoutError:
        return Line(
            False, model, label, f"no answer in {seconds:.0f}s", time.perf_counter() - started
        )
    except GatewayError as error:
        detail = (
            f"upstream failure HTTP {error.status} ({error.code or error.type}): {error.message}"
        )
        return Line(False, model, label, detail, time.perf_counter() - started)
    return Line(True, model, label, detail, time.perf_counter() - started)


async def run(settings: Settings, stream: bool, seconds: float) -> list[Line]:
    providers = build_providers(settings.providers)
    lines = []
    try:
        for model in settings.models:
            provider = providers[model.provider]
            kind = settings.providers[model.provider].type.value
            upstream = model.model or model.name
            lines.append(await check(model.provider, provider, kind, upstream, stream, seconds))
        used = {model.provider for model in settings.models}
        for name in sorted(set(providers) - used):
            kind = settings.providers[name].type.value
            lines.append(Line(True, "-", f"{name}:{kind}", "no model configured; not called", 0.0))
    finally:
        for provider in providers.values():
            await provider.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", default=None, help="relaygate.yaml (default: the usual lookup)")
    parser.add_argument("--stream", action="store_true", help="stream the answers")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    lines = asyncio.run(run(settings, args.stream, args.timeout))
    for line in lines:
        print(line.render(), flush=True)
    failed = sum(1 for line in lines if not line.ok)
    print(f"{len(lines) - failed} ok, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
