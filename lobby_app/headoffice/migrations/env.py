"""Alembic environment for the head-office database; the connection comes from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from lobby_app.headoffice.schema import meta

config = context.config


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:  # plain `alembic` command line
        url = config.get_main_option("sqlalchemy.url") or "sqlite:///headoffice.sqlite3"
        with create_engine(url).begin() as c:
            context.configure(
                connection=c, target_metadata=meta, version_table="ho_alembic_version"
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=meta, version_table="ho_alembic_version")
    with context.begin_transaction():
        context.run_migrations()


run()
