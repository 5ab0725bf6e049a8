"""Agent-to-agent messages: a durable mailbox per (tenant, agent).

Revision ID: 0007_agent_messages
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_agent_messages"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_messages",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("from_agent", sa.String(200), nullable=False),
        sa.Column("to_agent", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.Column("delivery_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("acked_at", sa.Float(), nullable=True),
    )
    op.create_index(
        "ix_agent_messages_inbox",
        "agent_messages",
        ["tenant", "to_agent", "acked_at", "sequence"],
    )


def downgrade() -> None:
    op.drop_index("ix_agent_messages_inbox", table_name="agent_messages")
    op.drop_table("agent_messages")
