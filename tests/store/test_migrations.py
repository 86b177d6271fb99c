from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from lobby_app.models import Base
from lobby_app.store import Store
from lobby_app.store.migrate import HEAD_REVISION, MIGRATIONS, current_revision


def test_head_constant_matches_the_scripts() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    assert current_revision(store.engine) == HEAD_REVISION
    insp = inspect(store.engine)
    for table in Base.metadata.sorted_tables:
        cols = {c["name"] for c in insp.get_columns(table.name)}
        assert cols == {c.name for c in table.columns}, table.name
    assert "uq_ticket_business_date_number" in {
        u["name"] for u in insp.get_unique_constraints("ticket")
    }
