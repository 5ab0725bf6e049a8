"""A2A (the `a2a-sdk`): named agents served as A2A agents, remote A2A agents as delegates.

Loaded only when an `/a2a/...` or `/.well-known/agent-card.json` request arrives or an
`a2a:<alias>` tool is called: a gateway that serves no A2A never imports the SDK."""
