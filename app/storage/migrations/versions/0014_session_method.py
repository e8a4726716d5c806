"""login_sessions.method: how the browser signed in (password, oidc, hf, header), so that an action
that asks for the password again can ask someone an identity provider vouched for to confirm
otherwise (deleting one's own account). Sessions open before this revision are `password`.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("method", sa.String(length=16), nullable=False, server_default="password"))


def downgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("method")
