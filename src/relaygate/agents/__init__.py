"""The agent layer: sessions, the tool loop, tools, the sandbox, MCP, messaging."""
