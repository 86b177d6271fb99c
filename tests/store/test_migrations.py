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


def test_a_0001_store_upgrades_keeping_its_tickets(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    old = Store.open(tmp_path, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "insert into business_type values ('cash', '现金', 'cash', 'closed_counter', null, 4, 1, 1)"
            )
        )
        conn.execute(
            text(
                "insert into ticket (id, business_date, number, prefix, seq, day_seq, business_code, "
                "zone, suggested_zone, zone_override_reason, prospect, vip, vip_reason, "
                "priority_reason, green_channel, greeting_note, needs_note, status, issued_at, "
                "issued_by, ahead_at_issue, estimated_wait_min, print_status, print_error) values "
                "('t1', '2026-11-23', 'A001', 'A', 1, 1, 'cash', 'closed_counter', 'closed_counter', "
                "'', 0, 0, '', '', 0, '老客户', '', 'waiting', '2026-11-23 01:00:00', '', 0, 0, "
                "'printed', '')"
            )
        )
    old.close()
    store = Store.open(tmp_path)
    assert current_revision(store.engine) == HEAD_REVISION
    with store.engine.connect() as conn:
        row = conn.execute(
            text("select number, greeting_note, recalls, assigned_window from ticket")
        ).one()
    assert tuple(row) == ("A001", "老客户", 0, None)
