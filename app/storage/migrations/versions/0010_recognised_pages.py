"""Recognised (OCR) pages: how many pages of a document were recognised from their image, and the
recognised words of each such page with their boxes (to highlight a cited passage on the page).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("ocr_pages", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "page_words",
        sa.Column("doc_id", sa.String(length=32), primary_key=True),
        sa.Column("page", sa.Integer(), primary_key=True),
        sa.Column("words", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("page_words")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("ocr_pages")
