"""MCP both ways: import remote servers' tools into the registry, export the registry at /mcp."""
