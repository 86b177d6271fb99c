"""The head office's schema version: set up an empty database, refuse a mismatch."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

MIGRATIONS = Path(__file__).with_name("migrations")
# every revision in order; the last is what this program writes
HO_REVISIONS = ("ho0001", "ho0002", "ho0003", "ho0004")
HO_HEAD = HO_REVISIONS[-1]
VERSION_TABLE = "ho_alembic_version"


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"select version_num from {VERSION_TABLE}")).scalar()


def upgrade(engine: Engine) -> str:
    """Run the head office's migrations up to the newest (``ho-migrate``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return HO_HEAD


def ensure_ready(engine: Engine, *, upgrade_older: bool = False) -> None:
    """An empty database is set up on first use; an older or newer schema is refused, with
    what to do, rather than written to. ``upgrade_older``: an older revision of ours is
    upgraded instead (the branch's own embedded head office, which no other program shares)."""
    version = current(engine)
    if version == HO_HEAD:
        return
    if upgrade_older and version in HO_REVISIONS:
        upgrade(engine)
        return
    if version is None:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
        if tables and "branch" in tables:
            raise LobbyError(
                "schema_mismatch",
                tr("总行库有表但没有结构版本记录，不能确认是本系统的库。请联系总行工程师核对。"),
            )
        upgrade(engine)
        return
    raise LobbyError(
        "schema_mismatch",
        tr(
            f"总行库结构版本为 {version}，本机程序需要 {HO_HEAD}。"
            "请总行先升级数据库（lobby-app ho-migrate --to 地址），或升级本机程序后再同步。"
            "本机数据不受影响，下次同步会补传。"
        ),
    )
