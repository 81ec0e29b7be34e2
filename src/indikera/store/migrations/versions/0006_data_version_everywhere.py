"""data version: also bumped by descriptions, the publication log and the measurement history

Revision ID: 0006
Revises: 0005

Why: every cache is now keyed on the data version (``context.Caches``): the organisation directory of
SOAP answers, the open-data view and its ETag. Those also show description versions, the change feed
(publication log) and the history, so a write to any of these tables must move the counter too — done by
the database, as in 0004, so that no writer can forget. ``store.tables.UNVERSIONED`` names the only tables
left out and why; a test checks that every other table has these triggers.
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WATCHED = ("measurement_history", "indicator_descriptions", "publication_log")
OPS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:  # the function is migration 0004's
            op.execute(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION indikera_bump_data_version()"
            )
    else:
        # Per row on SQLite; the import suspends the history's triggers as it does the measurements'.
        for table in WATCHED:
            for op_name in OPS:
                op.execute(
                    f"CREATE TRIGGER {table}_data_version_{op_name.lower()} AFTER {op_name} ON {table} "
                    "BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
    else:
        for table in WATCHED:
            for op_name in OPS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{op_name.lower()}")
