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


def test_0008_keeps_no_special_card_without_an_approval(tmp_path: Path) -> None:
    """Before 0008 a card the assets did not earn was kept as a special (特批) card with no
    approval on record. 0008 adds the approval columns; such a card becomes one due for
    downgrade (the card held is kept) and its holder is served at the level the assets earn
    (003 第十二条 2, 第十四条)."""
    from alembic import command
    from sqlalchemy import text

    old = Store.open(tmp_path, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
        for no, avg, card, special in (
            ("S1", 3_000_000, "black_gold", 1),  # 30,000 yuan, 黑金卡
            ("S2", 30_000_000, "platinum", 1),  # 300,000 yuan: earns a standard card
            ("E1", 700_000_000, "black_gold", 0),  # earned
        ):
            conn.execute(
                text(
                    "insert into customer (id, customer_no, name, id_last4, phone_prefix3, "
                    "phone_last4, card_first6, card_last4, assets_fen, loans_fen, "
                    "avg_assets_3m_fen, tier, vip_card, vip_special, manager, prospect, "
                    "pinyin_full, pinyin_initials, updated_at) values (:no, :no, '客户', '', '', "
                    "'', '', '', :avg, 0, :avg, 'mass', :card, :special, '', 0, '', '', "
                    "'2026-11-30 01:00:00')"
                ),
                {"no": no, "avg": avg, "card": card, "special": special},
            )
    old.close()
    store = Store.open(tmp_path)
    assert current_revision(store.engine) == HEAD_REVISION
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "select customer_no, vip_card, vip_special, vip_card_held, vip_approved_by,"
                " vip_approved_until from customer order by customer_no"
            )
        ).all()
    store.close()
    assert [tuple(r) for r in rows] == [
        ("E1", "black_gold", 0, None, "", None),
        ("S1", None, 0, "black_gold", "", None),
        ("S2", "standard", 0, "platinum", "", None),
    ]
