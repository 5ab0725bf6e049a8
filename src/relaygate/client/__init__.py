"""`relaygate.client`: an async Python client for the gateway's agent features.

    async with GatewayAgentClient("http://127.0.0.1:8080", api_key="sk-…") as client:
        reply = await client.complete_response("mock", [build_user_message("hello")])
        print(reply["text"], reply["usage"])

The public names are exactly those in `__all__` (checked by a test).
"""

from relaygate.client.agent_client import GatewayAgentClient
from relaygate.client.errors import GatewayClientError
from relaygate.client.messages import build_user_message
from relaygate.client.types import CompletedResponse, StreamEvent

__all__ = [
    "CompletedResponse",
    "GatewayAgentClient",
    "GatewayClientError",
    "StreamEvent",
    "build_user_message",
]
