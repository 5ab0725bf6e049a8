"""The cache step of a gateway's settings: in process by default, in Redis with
`storage.redis_url` (built only when the cache is `on`: off, it costs nothing)."""

from __future__ import annotations

from relaygate.cache.settings import CacheSettings
from relaygate.cache.step import CacheCounters, CacheStep, SemanticLookup
from relaygate.cache.stores import CacheStore, MemoryStore, RedisStore
from relaygate.services import Gateway


def cache_step(gateway: Gateway) -> CacheStep:
    """The step of `gateway.settings.cache` (which is `on`)."""
    settings = gateway.settings.cache
    store: CacheStore
    if gateway.shared is not None:
        store = RedisStore(gateway.shared.redis, settings.redis_prefix)
    else:
        memory = MemoryStore(settings.max_bytes)
        gateway.metrics.watch("relaygate_cache_entries", "Entries in this process's response "
                              "cache.", lambda: float(memory.stats()[0]))
        gateway.metrics.watch("relaygate_cache_bytes", "Bytes in this process's response "
                              "cache.", lambda: float(memory.stats()[1]))
        store = memory
    metrics = gateway.metrics
    counters = CacheCounters(metrics.cache_misses, metrics.cache_stored_bytes,
                             metrics.cache_errors)
    semantic = semantic_index(gateway, settings) if settings.semantic.enabled else None
    return CacheStep(settings, store, gateway.sinks.listeners, counters, semantic)


def semantic_index(gateway: Gateway, settings: CacheSettings) -> SemanticLookup:
    """The bundled embedder (loaded now: its model, numpy) and the index: in process, or
    shared through Redis with `storage.redis_url`."""
    from relaygate.cache.embedder import BundledE5Embedder, RecentEmbeddings
    from relaygate.cache.semantic_index import DEFAULT_THRESHOLD, LocalSemanticIndex

    semantic = settings.semantic
    embedder = RecentEmbeddings(BundledE5Embedder())  # a miss's question, embedded once
    threshold = semantic.threshold or DEFAULT_THRESHOLD
    if gateway.shared is None:
        return LocalSemanticIndex(embedder, threshold, semantic.max_entries_per_namespace)
    from relaygate.cache.semantic_redis import RedisSemanticIndex

    return RedisSemanticIndex(gateway.shared.redis, embedder, threshold,
                              f"{settings.redis_prefix}semantic:",
                              max_entries_per_namespace=semantic.max_entries_per_namespace)
