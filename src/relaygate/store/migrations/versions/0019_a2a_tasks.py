"""A2A tasks, kept in the database so any instance can read or cancel one.

Revision ID: 0019_a2a_tasks
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_a2a_tasks"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_tasks",
        sa.Column("owner", sa.String(300), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("context_id", sa.String(200), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("task", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_a2a_tasks_owner_updated", "a2a_tasks", ["owner", "updated_at"])


def downgrade() -> None:
    op.drop_table("a2a_tasks")
