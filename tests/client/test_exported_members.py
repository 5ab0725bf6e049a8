"""The client's public API is exactly `__all__`, and every name in it is documented."""

from __future__ import annotations

import relaygate.client as client


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(client) if not name.startswith("_")}
    modules = {"agent_client", "errors", "messages", "types", "terminal"}
    assert set(client.__all__) == public - modules
    assert sorted(client.__all__) == client.__all__


def test_every_public_name_is_documented() -> None:
    for name in client.__all__:
        assert getattr(client, name).__doc__, name
    for method in ("complete_response", "stream_response", "create_session",
                   "stream_session_message", "send_agent_message", "receive_agent_messages"):
        assert getattr(client.GatewayAgentClient, method).__doc__, method
