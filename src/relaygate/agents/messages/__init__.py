"""Agent-to-agent messages: a durable, tenant-scoped mailbox per agent (at-least-once)."""

from relaygate.agents.messages.mailbox import AgentMessage, Mailbox

__all__ = ["AgentMessage", "Mailbox"]
