"""The response cache: exact answers under exact keys, and a semantic index that finds those keys by meaning."""
