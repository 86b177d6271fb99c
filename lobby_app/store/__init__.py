"""The branch store: one SQLite file, Alembic migrations, one function per command."""

from lobby_app.store.db import Store

__all__ = ["Store"]
