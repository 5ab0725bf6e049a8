"""Streams to clients: SSE framing, event logs, WebSocket hubs."""
