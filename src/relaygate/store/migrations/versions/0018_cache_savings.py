"""The usage ledger keeps what a cache hit saved (the original call's cost).

Revision ID: 0018_cache_savings
Revises: 0017_agents_workflows
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_cache_savings"
down_revision = "0017_agents_workflows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("usage_ledger", sa.Column("saved_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("usage_ledger", "saved_usd")
