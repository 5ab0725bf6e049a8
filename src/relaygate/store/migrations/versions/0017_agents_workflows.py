"""Named agents and workflows created through the admin API.

Revision ID: 0017_agents_workflows
Revises: 0014_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_agents_workflows"
down_revision = "0014_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("agents", "workflows"):
        op.create_table(
            table,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("spec", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
        )
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("scoped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("owner", sa.String(120), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_workflow_runs_expires", "workflow_runs", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("workflow_runs")
    op.drop_table("workflows")
    op.drop_table("agents")
