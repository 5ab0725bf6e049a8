"""Realtime chat over WebSocket: the message protocol, the per-process hub, the bounded
pool that runs agent turns, and the turn itself."""
