"""The audit log: one row per admin action (who, when, what, before and after).

Revision ID: 0014_audit
Revises: 0011_budget_counters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_audit"
down_revision = "0012_prompts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(200), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target", "at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
