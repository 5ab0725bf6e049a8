"""Model providers: one `send`/`stream` interface, one adapter per upstream format."""
