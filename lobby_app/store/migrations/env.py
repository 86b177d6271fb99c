"""Alembic environment for the branch store; the connection comes from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from lobby_app.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:  # plain `alembic` command line, e.g. for autogenerate
        url = config.get_main_option("sqlalchemy.url") or "sqlite:///branch.sqlite3"
        with create_engine(url).begin() as c:
            context.configure(connection=c, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
