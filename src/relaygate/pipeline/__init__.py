"""The ordered steps around every model call: auth, limits, guard, cache, usage."""
