"""Alembic migrations of the app database (`python -m app db upgrade`; run at start by app/storage/db.py)."""
