"""value summaries: per-group aggregates of measurements kept by triggers; an index of each batch's removals

Revision ID: 0012
Revises: 0011

Why (issue #19): the open data seals its state (the ETag) once per data version, and that seal aggregated
every visible value: 98–124 s at 10 million values, in every worker, after every approval. The triggers keep
``value_groups`` (per indicator, batch and period) and ``value_members`` (per indicator, batch, organisation
and source system) exact in the same statement as the write, whichever code writes, so the seal reads a few
thousand rows. See ``store.summary_tables``.

PostgreSQL: one statement-level trigger per operation with transition tables — one grouped upsert per
statement, however many rows a COPY or an UPDATE touches; rows are upserted in key order, so concurrent
writers lock groups in the same order. SQLite has only row triggers; an UPDATE that keeps a row's keys only
bumps its group's revision.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
G = "indicator_id, batch_id, period_start, period_end"
M = "indicator_id, batch_id, organisation_id, source_system_id"

# rows(sign, id, stamp) of the transition tables, per operation; the stamp is NULL for old rows.
PG_DELTA = {
    "INSERT": "SELECT *, 1 AS dn, greatest(updated_at, visible_since) AS stamp FROM new_rows",
    "DELETE": "SELECT *, -1 AS dn, NULL::timestamptz AS stamp FROM old_rows",
    "UPDATE": "SELECT *, 1 AS dn, greatest(updated_at, visible_since) AS stamp FROM new_rows "
              "UNION ALL SELECT *, -1 AS dn, NULL::timestamptz AS stamp FROM old_rows",
}


def _pg_function(op_name: str) -> str:
    delta = PG_DELTA[op_name]
    prune = "" if op_name == "INSERT" else (  # only the members an old row left can have reached zero
        f"\n  DELETE FROM value_members WHERE n = 0 AND ({M}) IN (SELECT {M} FROM old_rows);")
    return f"""
CREATE FUNCTION indikera_value_summaries_{op_name.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO value_groups AS g ({G}, n, id_sum, revision, last_change)
  SELECT {G}, sum(dn), sum(dn * id), 1, coalesce(max(stamp), '2000-01-01T00:00:00Z'::timestamptz)
  FROM ({delta}) d GROUP BY {G} ORDER BY {G}
  ON CONFLICT ({G}) DO UPDATE SET n = g.n + excluded.n, id_sum = g.id_sum + excluded.id_sum,
    revision = g.revision + 1, last_change = greatest(g.last_change, excluded.last_change);
  INSERT INTO value_members AS m ({M}, n)
  SELECT {M}, sum(dn) FROM ({delta}) d GROUP BY {M} HAVING sum(dn) <> 0 ORDER BY {M}
  ON CONFLICT ({M}) DO UPDATE SET n = m.n + excluded.n;{prune}
  RETURN NULL;
END $$
"""


PG_TRUNCATE = """
CREATE FUNCTION indikera_value_summaries_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE value_groups SET n = 0, id_sum = 0, revision = revision + 1 WHERE n <> 0;
  DELETE FROM value_members;
  RETURN NULL;
END $$
"""

_STAMP = "max(NEW.updated_at, coalesce(NEW.visible_since, NEW.updated_at))"
_KEYS = ("indicator_id", "batch_id", "period_start", "period_end", "organisation_id", "source_system_id")


def _sqlite_add(row: str) -> str:
    return (f"INSERT INTO value_groups ({G}, n, id_sum, revision, last_change) VALUES ("
            f"{row}.indicator_id, {row}.batch_id, {row}.period_start, {row}.period_end, 1, {row}.id, 1, {_STAMP}) "
            f"ON CONFLICT ({G}) DO UPDATE SET n = n + 1, id_sum = id_sum + excluded.id_sum, revision = revision + 1, "
            "last_change = max(last_change, excluded.last_change); "
            f"INSERT INTO value_members ({M}, n) VALUES ({row}.indicator_id, {row}.batch_id, {row}.organisation_id, "
            f"{row}.source_system_id, 1) ON CONFLICT ({M}) DO UPDATE SET n = n + 1;")


def _sqlite_remove(row: str) -> str:
    group = " AND ".join(f"{c} = {row}.{c}" for c in G.split(", "))
    member = " AND ".join(f"{c} = {row}.{c}" for c in M.split(", "))
    return (f"UPDATE value_groups SET n = n - 1, id_sum = id_sum - {row}.id, revision = revision + 1 WHERE {group}; "
            f"UPDATE value_members SET n = n - 1 WHERE {member}; DELETE FROM value_members WHERE {member} AND n = 0;")


def _sqlite_triggers() -> dict[str, str]:
    moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("id",) + _KEYS)
    same = " AND ".join(f"{c} = NEW.{c}" for c in G.split(", "))
    return {
        "measurements_summary_insert": f"AFTER INSERT ON measurements BEGIN {_sqlite_add('NEW')} END",
        "measurements_summary_delete": f"AFTER DELETE ON measurements BEGIN {_sqlite_remove('OLD')} END",
        "measurements_summary_move": f"AFTER UPDATE ON measurements WHEN {moved} BEGIN "
                                     f"{_sqlite_remove('OLD')} {_sqlite_add('NEW')} END",
        "measurements_summary_update": f"AFTER UPDATE ON measurements WHEN NOT ({moved}) BEGIN "
                                       f"UPDATE value_groups SET revision = revision + 1, "
                                       f"last_change = max(last_change, {_STAMP}) WHERE {same}; END",
    }


# A fresh aggregate of every stored value: the back-fill here, and ``store.value_summaries.rebuild``.
BACKFILL_GROUPS = (f"INSERT INTO value_groups ({G}, n, id_sum, revision, last_change) "
                   f"SELECT {G}, count(*), sum(id), 1, max(CASE WHEN visible_since > updated_at THEN visible_since "
                   f"ELSE updated_at END) FROM measurements GROUP BY {G}")
BACKFILL_MEMBERS = f"INSERT INTO value_members ({M}, n) SELECT {M}, count(*) FROM measurements GROUP BY {M}"


def upgrade() -> None:
    op.create_table(
        'value_groups',
        sa.Column('indicator_id', Id, nullable=False),
        sa.Column('batch_id', Id, nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('id_sum', sa.BigInteger(), nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.Column('last_change', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('indicator_id', 'batch_id', 'period_start', 'period_end', name=op.f('pk_value_groups')),
    )
    op.create_table(
        'value_members',
        sa.Column('indicator_id', Id, nullable=False),
        sa.Column('batch_id', Id, nullable=False),
        sa.Column('organisation_id', Id, nullable=False),
        sa.Column('source_system_id', Id, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('indicator_id', 'batch_id', 'organisation_id', 'source_system_id',
                                name=op.f('pk_value_members')),
    )
    op.create_index('ix_measurement_history_removed', 'measurement_history', ['batch_id', 'id'],
                    postgresql_where=sa.text("operation = 'removed'"), sqlite_where=sa.text("operation = 'removed'"))
    op.execute(BACKFILL_GROUPS)
    op.execute(BACKFILL_MEMBERS)
    if op.get_bind().dialect.name == "postgresql":
        for op_name, refs in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                              ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            op.execute(_pg_function(op_name))
            op.execute(f"CREATE TRIGGER measurements_summary_{op_name.lower()} AFTER {op_name} ON measurements "
                       f"REFERENCING {refs} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION indikera_value_summaries_{op_name.lower()}()")
        op.execute(PG_TRUNCATE)
        op.execute("CREATE TRIGGER measurements_summary_truncate AFTER TRUNCATE ON measurements "
                   "FOR EACH STATEMENT EXECUTE FUNCTION indikera_value_summaries_truncate()")
    else:
        for name, body in _sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for op_name in ("insert", "delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS measurements_summary_{op_name} ON measurements")
            op.execute(f"DROP FUNCTION IF EXISTS indikera_value_summaries_{op_name}()")
    else:
        for name in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_measurement_history_removed', table_name='measurement_history')
    op.drop_table('value_members')
    op.drop_table('value_groups')
