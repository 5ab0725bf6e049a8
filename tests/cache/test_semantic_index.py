"""LocalSemanticIndex: paraphrases hit, different questions miss, and the entry lifecycle."""

from __future__ import annotations

from relaygate.cache.embedder import BundledE5Embedder
from relaygate.cache.semantic_index import LocalSemanticIndex
from tests.cache.support import FakeClock, WordHashEmbedder

ALICE = "alice\x1fgpt-4o\x1fctx1"
BOB = "bob\x1fgpt-4o\x1fctx1"


async def test_a_paraphrase_hits_and_a_different_question_misses(e5: BundledE5Embedder) -> None:
    index = LocalSemanticIndex(e5)
    await index.add(ALICE, "What is the currency of Switzerland?", "key-chf", ttl_s=60)
    await index.add(ALICE, "How do I reverse a list in Python?", "key-py", ttl_s=60)

    hit = await index.nearest(ALICE, "Which currency is used in Switzerland?")
    assert hit is not None and hit[0] == "key-chf"
    assert await index.nearest(ALICE, "What is the currency of Sweden?") is None
    assert await index.nearest(ALICE, "How do I reverse a list in JavaScript?") is None


async def test_namespaces_are_isolated(e5: BundledE5Embedder) -> None:
    index = LocalSemanticIndex(e5)
    await index.add(ALICE, "What is the capital of France?", "alice-key", ttl_s=60)
    assert await index.nearest(BOB, "What is the capital of France?") is None
    await index.add(BOB, "What is the capital of France?", "bob-key", ttl_s=60)
    found = await index.nearest(BOB, "What is the capital of France?")
    assert found is not None and found[0] == "bob-key"
    found = await index.nearest(ALICE, "What is the capital of France?")
    assert found is not None and found[0] == "alice-key"


async def test_an_entry_past_its_ttl_never_matches() -> None:
    clock = FakeClock()
    index = LocalSemanticIndex(WordHashEmbedder(), threshold=0.9, clock=clock)
    await index.add(ALICE, "list the files", "k1", ttl_s=10)
    assert await index.nearest(ALICE, "list the files") is not None
    clock.now += 10.5
    assert await index.nearest(ALICE, "list the files") is None


async def test_the_oldest_entry_is_evicted_when_full() -> None:
    index = LocalSemanticIndex(WordHashEmbedder(), threshold=0.9, max_entries_per_namespace=2)
    await index.add(ALICE, "alpha beta", "k1", ttl_s=60)
    await index.add(ALICE, "gamma delta", "k2", ttl_s=60)
    await index.add(ALICE, "epsilon zeta", "k3", ttl_s=60)
    assert await index.nearest(ALICE, "alpha beta") is None
    assert (await index.nearest(ALICE, "gamma delta") or ("",))[0] == "k2"
    assert (await index.nearest(ALICE, "epsilon zeta") or ("",))[0] == "k3"


async def test_re_adding_a_key_replaces_its_entry() -> None:
    index = LocalSemanticIndex(WordHashEmbedder(), threshold=0.9)
    await index.add(ALICE, "alpha beta", "k1", ttl_s=60)
    await index.add(ALICE, "gamma delta", "k1", ttl_s=60)
    assert await index.nearest(ALICE, "alpha beta") is None
    assert (await index.nearest(ALICE, "gamma delta") or ("",))[0] == "k1"


async def test_discard_drops_the_entry() -> None:
    index = LocalSemanticIndex(WordHashEmbedder(), threshold=0.9)
    await index.add(ALICE, "alpha beta", "k1", ttl_s=60)
    await index.discard("k1")
    await index.discard("never-added")
    assert await index.nearest(ALICE, "alpha beta") is None


async def test_clear_by_prefix_drops_a_tenant_or_a_tenant_and_model() -> None:
    index = LocalSemanticIndex(WordHashEmbedder(), threshold=0.9)
    await index.add("alice\x1fgpt-4o\x1fc", "one two", "a1", ttl_s=60)
    await index.add("alice\x1fclaude\x1fc", "one two", "a2", ttl_s=60)
    await index.add("bob\x1fgpt-4o\x1fc", "one two", "b1", ttl_s=60)

    assert await index.clear("alice\x1fgpt-4o\x1f") == 1
    assert await index.nearest("alice\x1fgpt-4o\x1fc", "one two") is None
    assert await index.nearest("alice\x1fclaude\x1fc", "one two") is not None

    assert await index.clear("alice\x1f") == 1
    assert await index.nearest("alice\x1fclaude\x1fc", "one two") is None
    assert await index.nearest("bob\x1fgpt-4o\x1fc", "one two") is not None
    assert await index.clear() == 1


async def test_the_guard_vetoes_the_best_candidate_and_the_next_one_is_tried() -> None:
    index = LocalSemanticIndex(WordHashEmbedder(), threshold=0.5)
    await index.add(ALICE, "convert 5 km to miles please", "five", ttl_s=60)
    await index.add(ALICE, "convert 50 km to miles", "fifty", ttl_s=60)
    found = await index.nearest(ALICE, "convert 50 km to miles please")
    assert found is not None and found[0] == "fifty"


def test_recent_embeddings_embed_a_text_once() -> None:
    import asyncio

    import numpy as np

    from relaygate.cache.embedder import RecentEmbeddings

    class Counting:
        dimensions = 2

        def __init__(self) -> None:
            self.calls = 0

        async def aembed(self, texts: object) -> np.ndarray:  # type: ignore[type-arg]
            self.calls += 1
            return np.ones((1, 2), dtype=np.float32)

    counting = Counting()
    recent = RecentEmbeddings(counting, size=1)

    async def run() -> None:
        await recent.aembed(["a"])
        await recent.aembed(["a"])
        assert counting.calls == 1
        await recent.aembed(["b"])
        await recent.aembed(["a"])  # pushed out by "b"
        assert counting.calls == 3

    asyncio.run(run())
