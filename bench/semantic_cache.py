"""Bench: p50/p99 of the semantic cache's `nearest` with 10,000 entries in one namespace.

Rows: the embedding alone, the search alone (a fixed query vector), and `nearest` whole
(embedding + search) in process and through Redis (steady state: one XREAD that finds
nothing new, run alongside the embedding). The 10,000 entries are random unit vectors
(embedding 10,000 real texts would take minutes); the questions are real texts.

    .venv/bin/python bench/semantic_cache.py [--redis redis://127.0.0.1:6379/0] [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import numpy as np
import numpy.typing as npt
from redis.asyncio import Redis

from relaygate.cache.embedder import BundledE5Embedder, normalise
from relaygate.cache.semantic_index import LocalSemanticIndex
from relaygate.cache.semantic_redis import RedisSemanticIndex

ENTRIES = 10_000
NAMESPACE = "bench\x1fmodel\x1fctx"
QUESTIONS = [
    "How do I reverse a list in Python?",
    "What is the capital of France?",
    "convert 5 km to miles",
    "Summarize the following article in three bullet points.",
    "Our nginx server returns 502 Bad Gateway after deploying. What are the usual causes?",
]


class BenchEmbedder:
    """Random unit vectors while filling; then the real model, or one fixed vector."""

    def __init__(self, model: BundledE5Embedder) -> None:
        self.dimensions = model.dimensions
        self.mode = "fill"
        self._model = model
        self._random = np.random.default_rng(7)
        self._fixed = normalise(self._random.standard_normal((1, self.dimensions)))

    async def aembed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if self.mode == "fill":
            return normalise(self._random.standard_normal((len(texts), self.dimensions)))
        if self.mode == "fixed":
            return np.repeat(self._fixed, len(texts), axis=0)
        return await self._model.aembed(texts)


async def _timed(call: Callable[[str], Awaitable[object]], rounds: int) -> list[float]:
    for question in QUESTIONS:  # warm up
        await call(question)
    samples = []
    for number in range(rounds):
        started = time.perf_counter()
        await call(QUESTIONS[number % len(QUESTIONS)])
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _row(name: str, samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"| {name:36} | {statistics.median(samples):8.2f} | {cuts[98]:8.2f} | {len(samples):6} |"


async def main(redis_url: str, rounds: int) -> None:
    model = BundledE5Embedder()
    embedder = BenchEmbedder(model)
    local = LocalSemanticIndex(embedder, threshold=0.99)
    for number in range(ENTRIES):
        await local.add(NAMESPACE, f"cached question {number}", f"key-{number}", ttl_s=3600)

    prefix = f"bench:semcache:{uuid.uuid4().hex}:"
    client = Redis.from_url(redis_url)
    shared = RedisSemanticIndex(client, embedder, threshold=0.99, prefix=prefix)
    try:
        for number in range(ENTRIES):
            await shared.add(NAMESPACE, f"cached question {number}", f"key-{number}", 3600)
        rows = []
        embedder.mode = "model"

        async def embed_only(text: str) -> object:
            return await model.aembed([text])

        rows.append(_row("embed one text (e5-small q4)", await _timed(embed_only, rounds)))
        rows.append(_row("local nearest (embed + search)", await _timed(
            lambda text: local.nearest(NAMESPACE, text), rounds)))
        rows.append(_row("redis nearest (embed + XREAD + search)", await _timed(
            lambda text: shared.nearest(NAMESPACE, text), rounds)))
        embedder.mode = "fixed"
        rows.append(_row("local search only", await _timed(
            lambda text: local.nearest(NAMESPACE, text), rounds * 5)))
        rows.append(_row("redis search only (XREAD + search)", await _timed(
            lambda text: shared.nearest(NAMESPACE, text), rounds * 5)))
    finally:
        await client.delete(prefix + "log")
        await client.aclose()
    print(f"semantic cache, {ENTRIES} entries x {model.dimensions} dims in one namespace")
    print(f"| {'what':36} | {'p50 ms':>8} | {'p99 ms':>8} | {'calls':>6} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 10}|{'-' * 8}|")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.redis, arguments.rounds))
