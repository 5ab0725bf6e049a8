"""Where a run sits in a delegation chain: the agents from the root run down to it and
its parent run, kept in the run's session metadata so any instance can read it (pure).
The keys naming the agent and the parent run are the sessions' own (sessions/run_limits.py:
the session service sums a run's spend down its `parent_run` links)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from relaygate.agents.sessions.run_limits import AGENT_METADATA, PARENT_METADATA
from relaygate.errors import InvalidRequest

__all__ = ["AGENT_METADATA", "CHAIN_METADATA", "DEPTH_METADATA", "PARENT_METADATA",
           "DelegationRefused", "Lineage"]

CHAIN_METADATA = "agent_chain"  # the agents from the root run to this one, joined by ">"
DEPTH_METADATA = "delegation_depth"  # 0 for a run started directly
CHAIN_SEPARATOR = ">"


class DelegationRefused(InvalidRequest):
    """A delegation that would go too deep or come back to an agent already in the chain."""

    default_code = "delegation_refused"


@dataclass(frozen=True, slots=True)
class Lineage:
    chain: tuple[str, ...] = ()  # agent names, root first (this run's own last)
    depth: int = 0
    parent_run: str | None = None

    @classmethod
    def of(cls, metadata: Mapping[str, str]) -> Lineage:
        """The lineage of a session from its metadata (a plain session: a root, no chain)."""
        chain = tuple(name for name in metadata.get(CHAIN_METADATA, "").split(CHAIN_SEPARATOR)
                      if name)
        if not chain and AGENT_METADATA in metadata:
            chain = (metadata[AGENT_METADATA],)
        depth = metadata.get(DEPTH_METADATA, "0")
        return cls(chain, int(depth) if depth.isdigit() else 0, metadata.get(PARENT_METADATA))

    def child(self, name: str, parent_run: str | None, max_depth: int) -> Lineage:
        """The lineage of a run of `name` delegated from this one; refused past `max_depth`
        or when `name` is already in the chain (a cycle)."""
        if name in self.chain:
            path = " → ".join([*self.chain, name])
            raise DelegationRefused(
                f"Delegation cycle refused: {path} (agent {name!r} is already running in "
                "this chain).", param="agent", code="delegation_cycle")
        if self.depth + 1 > max_depth:
            raise DelegationRefused(
                f"Delegation depth limit reached: a run at depth {self.depth} may not delegate "
                f"to {name!r} (delegation.max_depth is {max_depth}).",
                param="agent", code="delegation_depth_exceeded")
        return Lineage((*self.chain, name), self.depth + 1, parent_run)

    def metadata(self) -> dict[str, str]:
        """The session metadata recording this lineage (nothing for a plain root run)."""
        if self.depth == 0 and self.parent_run is None:
            return {}
        meta = {CHAIN_METADATA: CHAIN_SEPARATOR.join(self.chain), DEPTH_METADATA: str(self.depth)}
        if self.parent_run is not None:
            meta[PARENT_METADATA] = self.parent_run
        return meta
