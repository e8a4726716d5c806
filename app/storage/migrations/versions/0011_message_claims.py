"""Claim checks stored with an answer: each sentence of the answer, the passages it cites, whether
they support it (supported | weak | unsupported) and why. Null for messages stored before the check
existed, for questions, and for answers whose check failed.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("claims", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claims")
