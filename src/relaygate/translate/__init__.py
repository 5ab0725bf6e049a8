"""Pure translation between wire formats and the canonical call (no I/O, no server)."""
