"""Runs the store's Alembic migrations from code (no alembic.ini needed at run time)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: Store.open reads HEAD_REVISION without SQLAlchemy
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")

# The newest migration. A test checks it against Alembic's own view of the scripts; it lets
# an up-to-date store open without importing Alembic, which saves a good part of start-up.
HEAD_REVISION = "0010"


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with engine.connect() as conn:
        try:
            return conn.execute(text("select version_num from alembic_version")).scalar()
        except OperationalError:  # a new, empty store
            return None


def upgrade_to_head(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
