"""The `agent_messages` table: one row per message handed from one agent to another.

`sequence` is the cursor (it only grows); a row stays until the recipient acknowledges
it, so a message is delivered at least once and never lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.store.base import Base

SEQUENCE_TYPE = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class AgentMessageRow(Base):
    __tablename__ = "agent_messages"

    sequence: Mapped[int] = mapped_column(SEQUENCE_TYPE, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant: Mapped[str] = mapped_column(String(200))
    from_agent: Mapped[str] = mapped_column(String(200))
    to_agent: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content: Mapped[Any] = mapped_column(JSON)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivery_count: Mapped[int] = mapped_column(Integer, default=0)
    acked_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_agent_messages_inbox", "tenant", "to_agent", "acked_at", "sequence"),)
