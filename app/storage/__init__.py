"""Storage: the app database, the vector stores and the file store.

Tables kept in modules of their own join `Base.metadata` here, so that whoever imports any of
storage sees every table (the migrations' check, `stamp head`, backups and account removal walk
the metadata)."""

from app.storage import access_tokens as _access_tokens  # noqa: F401
from app.storage import groups_db as _groups_db  # noqa: F401
