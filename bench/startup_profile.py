"""Where the gateway's start-up time and idle memory go.

1. Imports: `python -X importtime -c "import relaygate.cli"`, self time summed by
   top-level package.
2. Memory: a fresh interpreter imports the heaviest top-level packages one by one (in the
   order the gateway imports them) and reports how much each adds to RSS.
3. Services: how long `start_gateway(settings)` (the lifespan's work) takes by itself.

Run: python bench/startup_profile.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

MEMORY_PROBE = """
import json, sys
def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
rows, last = [], rss()
for name in sys.argv[1:]:
    __import__(name)
    now = rss()
    rows.append((name, now - last))
    last = now
print(json.dumps({"base": rss() - sum(d for _, d in rows), "rows": rows, "total": rss()}))
"""

SERVICES_PROBE = """
import asyncio, json, sys, tempfile, time
from relaygate.config import parse_settings
from relaygate.services import start_gateway
def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
async def main():
    directory = tempfile.mkdtemp()
    settings = parse_settings(
        '{"storage": {"database_url": "sqlite+aiosqlite:///%s/s.db"}}' % directory, "probe", {}
    )
    before, started = rss(), time.perf_counter()
    gateway = await start_gateway(settings)
    took, after = time.perf_counter() - started, rss()
    await gateway.close()
    print(json.dumps({"seconds": took, "rss_before": before, "rss_after": after}))
asyncio.run(main())
"""


def import_times() -> tuple[dict[str, float], list[str]]:
    """Self import time by top-level package (seconds), and top-level packages in order."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import relaygate.cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    by_package: dict[str, float] = defaultdict(float)
    order: list[str] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        package = name.strip().split(".")[0]
        by_package[package] += int(self_us) / 1e6
        if package not in order:
            order.append(package)
    return dict(by_package), order


def main() -> int:
    times, order = import_times()
    total = sum(times.values())
    print(f"imports: {total:.2f} s in all; by top-level package (self time):")
    for package, seconds in sorted(times.items(), key=lambda item: -item[1])[:15]:
        print(f"  {package:<28}{seconds * 1000:8.0f} ms")
    heavy = [package for package in order if times[package] > 0.01 and not package.startswith("_")]
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, *heavy], capture_output=True, text=True, check=True
    )
    memory = json.loads(probe.stdout)
    print(
        f"\nRSS after importing relaygate's dependencies: {memory['total']:.0f} MiB "
        f"(interpreter {memory['base']:.0f} MiB); what each adds, in import order:"
    )
    for package, delta in sorted(memory["rows"], key=lambda row: -row[1])[:15]:
        print(f"  {package:<28}{delta:8.1f} MiB")
    services = subprocess.run(
        [sys.executable, "-c", SERVICES_PROBE], capture_output=True, text=True, check=True
    )
    print("\nstart_gateway():", services.stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
