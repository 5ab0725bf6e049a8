"""Agent cards: one per named agent (`/a2a/{name}/.well-known/agent-card.json`) and the
directory of a tenant's agents (`/.well-known/agent-card.json`), both as a2a-sdk cards."""

from __future__ import annotations

from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol

from relaygate import __version__
from relaygate.agents.named.spec import AgentSpec

BEARER = "bearer"  # the security scheme: a gateway key as `Authorization: Bearer`
TEXT_MODES = ["text/plain"]


def agent_url(base_url: str, name: str) -> str:
    """The JSON-RPC endpoint of agent `name`."""
    return f"{base_url.rstrip('/')}/a2a/{name}"


def _interface(url: str) -> AgentInterface:
    return AgentInterface(url=url, protocol_binding=TransportProtocol.JSONRPC.value,
                          protocol_version=PROTOCOL_VERSION_CURRENT)


def _skill(name: str, spec: AgentSpec) -> AgentSkill:
    return AgentSkill(id=name, name=name, description=spec.description or f"The agent {name}.",
                      tags=["relaygate-agent"], input_modes=TEXT_MODES, output_modes=TEXT_MODES)


def _card(name: str, description: str, urls: list[str], skills: list[AgentSkill]) -> AgentCard:
    return AgentCard(
        name=name,
        description=description,
        version=__version__,
        supported_interfaces=[_interface(url) for url in urls],
        capabilities=AgentCapabilities(streaming=True),
        security_schemes={BEARER: SecurityScheme(
            http_auth_security_scheme=HTTPAuthSecurityScheme(
                scheme="Bearer", description="A relaygate API key."))},
        security_requirements=[SecurityRequirement(schemes={BEARER: StringList()})],
        default_input_modes=TEXT_MODES,
        default_output_modes=TEXT_MODES,
        skills=skills,
    )


def agent_card(base_url: str, name: str, spec: AgentSpec) -> AgentCard:
    """The card of one named agent: one skill (the agent), its JSON-RPC endpoint."""
    return _card(name, spec.description or f"The relaygate agent {name}.",
                 [agent_url(base_url, name)], [_skill(name, spec)])


def directory_card(base_url: str, agents: dict[str, AgentSpec]) -> AgentCard:
    """The gateway's card: a skill per agent the caller may run (its id is the agent's name)
    and each agent's endpoint as an interface, in the same order."""
    return _card(
        "relaygate",
        "The agents of this relaygate gateway; each skill is one agent, served at "
        "/a2a/{name} (its own card at /a2a/{name}/.well-known/agent-card.json).",
        [agent_url(base_url, name) for name in agents],
        [_skill(name, spec) for name, spec in agents.items()],
    )
