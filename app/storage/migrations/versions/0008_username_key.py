"""users.username_key: the form usernames are compared in (app/clean.py `username_key`: clean,
NFKC, case-folded), unique, so no `Bob` can be created beside `bob` and `BOB` signs in as `bob`.

A database may already hold names that differ only by case (`bob`, then `Bob`). The upgrade does
not fail and keeps both accounts: the older one (lower id) gets the plain key, so any spelling of
the name signs in to it; each later one gets `<key>` + U+001F + `<id>`, a key no typed name can
produce (cleaning removes U+001F), so that account signs in with its exact stored name only. A
warning names them here and at every start (app/auth/login.py `bootstrap_admin`), until an admin
removes or renames one of them.

Downgrade drops the column; nothing else changed.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from loguru import logger

from app.clean import username_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DUPLICATE_MARK = "\x1f"
_KEY_CHARS = 100  # of the 128 the column holds: room for the duplicate mark and an id


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=128), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username"), sa.column("username_key"))
    conn = op.get_bind()
    owners: dict[str, str] = {}
    for user_id, name in conn.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all():
        key = username_key(name)[:_KEY_CHARS]
        if key in owners:
            logger.warning(
                "users differ only by case kept=both user={!r} same_as={!r} "
                "(the later one signs in with its exact name only; remove or rename one)",
                name,
                owners[key],
            )
            key = f"{key}{DUPLICATE_MARK}{user_id}"
        owners.setdefault(key, name)
        conn.execute(sa.update(users).where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(length=128), nullable=False)
        batch.create_index("ix_users_username_key", ["username_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_username_key")
        batch.drop_column("username_key")
