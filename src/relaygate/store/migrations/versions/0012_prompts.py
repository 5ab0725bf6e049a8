"""Prompt templates, their versions, user feedback; the ledger's prompt columns.

Revision ID: 0012_prompts
Revises: 0011_budget_counters, 0010_usage_ledger (it adds two columns to the ledger)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_prompts"
down_revision = ("0011_budget_counters", "0010_usage_ledger")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_templates",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("tenant", sa.String(200), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("latest", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "prompt_versions",
        sa.Column("template_id", sa.String(40), sa.ForeignKey("prompt_templates.id"),
                  primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "prompt_feedback",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_prompt_feedback_request", "prompt_feedback", ["request_id"])
    with op.batch_alter_table("usage_ledger") as table:
        table.add_column(sa.Column("prompt_id", sa.String(40), nullable=True))
        table.add_column(sa.Column("prompt_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_ledger") as table:
        table.drop_column("prompt_version")
        table.drop_column("prompt_id")
    op.drop_table("prompt_feedback")
    op.drop_table("prompt_versions")
    op.drop_table("prompt_templates")
