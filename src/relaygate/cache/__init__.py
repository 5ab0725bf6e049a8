"""The response cache: exact and semantic lookups before the dispatch, stores after it."""
