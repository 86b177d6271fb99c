"""head office: branches, their visits and referrals, the directories that go down

Revision ID: ho0001
Revises:
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

from alembic import op

revision = "ho0001"
down_revision = None
branch_labels = None
depends_on = None

DOWN_TABLES = ("customer_directory", "staff_directory", "business_type", "marketing_sentence")
# tables schema.py gained after this revision: later revisions create them
LATER_TABLES = ("registration", "store_epoch", "branch_takeover")


def upgrade() -> None:
    from lobby_app.headoffice import schema

    bind = op.get_bind()
    # revision ho0001 is schema.py as first released; later changes get their own revisions
    schema.meta.create_all(
        bind, tables=[t for t in schema.meta.sorted_tables if t.name not in LATER_TABLES]
    )
    op.execute("INSERT INTO ho_version (id, value) VALUES (1, 0)")
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ho_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              UPDATE ho_version SET value = value + 1 WHERE id = 1 RETURNING value INTO NEW.version;
              NEW.updated_at := now();
              RETURN NEW;
            END $$
            """
        )
        for t in DOWN_TABLES:
            op.execute(
                f"CREATE TRIGGER trg_{t}_version BEFORE INSERT OR UPDATE ON {t}"
                " FOR EACH ROW EXECUTE FUNCTION ho_bump_version()"
            )
    else:
        for t in DOWN_TABLES:
            body = (
                "BEGIN UPDATE ho_version SET value = value + 1 WHERE id = 1;"
                f" UPDATE {t} SET version = (SELECT value FROM ho_version WHERE id = 1),"
                " updated_at = CURRENT_TIMESTAMP WHERE rowid = NEW.rowid; END"
            )
            op.execute(f"CREATE TRIGGER trg_{t}_version_ins AFTER INSERT ON {t} {body}")
            op.execute(
                f"CREATE TRIGGER trg_{t}_version_upd AFTER UPDATE ON {t}"
                f" WHEN NEW.version = OLD.version {body}"
            )


def downgrade() -> None:
    from lobby_app.headoffice import schema

    schema.meta.drop_all(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ho_bump_version()")
