"""Background response runs and their owners' leases.

Revision ID: 0008_response_runs
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_response_runs"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_runs",
        sa.Column("response_id", sa.String(80), primary_key=True),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_response_runs_owner", "response_runs", ["owner"])
    op.create_index("ix_response_runs_expires", "response_runs", ["expires_at"])


def downgrade() -> None:
    op.drop_table("response_runs")
