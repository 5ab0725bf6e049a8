"""Anthropic Messages: wire types, request/response translation, SSE events."""
