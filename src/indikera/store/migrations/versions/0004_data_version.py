"""data version: a counter that database triggers bump on every change an answer can depend on

Revision ID: 0004
Revises: 0003

Why triggers: the SOAP producer caches checksum-only answers per data version (issue: a checksum-only
answer must cost an index look-up). A cache is only safe if *no* write can forget to invalidate it, so
the database itself bumps the counter — whichever code path writes.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Every table whose rows can change what a GetQualityIndicators answer (or its visibility) contains.
WATCHED = ("measurements", "batches", "indicators", "organisations", "source_systems", "publication_rules", "agreements")
OPS = ("INSERT", "UPDATE", "DELETE")

PG_FUNCTION = """
CREATE FUNCTION indikera_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE data_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in WATCHED:
            # Statement level: one bump per statement, however many rows a bulk import writes.
            op.execute(
                f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION indikera_bump_data_version()"
            )
    else:
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
        op.execute("DROP FUNCTION IF EXISTS indikera_bump_data_version()")
    else:
        for table in WATCHED:
            for op_name in OPS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{op_name.lower()}")
    op.drop_table('data_version')
