"""The index fingerprint and the collection an alias points at (safe re-indexing).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_state",
        sa.Column("alias", sa.String(length=128), nullable=False),
        sa.Column("collection", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("alias"),
    )


def downgrade() -> None:
    op.drop_table("index_state")
