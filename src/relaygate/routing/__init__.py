"""Which provider serves a model name: the registry, aliases and rewrites."""
