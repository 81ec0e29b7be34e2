"""description review workflow: status per description version, review dates, and the review log

Revision ID: 0009
Revises: 0008

Why (issue #16): a new description version went live in every channel the moment it was imported. Each
version now has a status (draft → in_review → approved → published, or rejected; a published version
becomes superseded when a newer one is published) and only published versions are read by the channels
(``catalog.store.description_versions``). Versions stored before this migration count as published (the
newest per indicator; older ones superseded), so an upgraded registry shows exactly what it showed before.
``description_review_log`` records who, when and why for every transition; it has data-version triggers as
every other table (``store.tables.UNVERSIONED``). It names the version by id and by measure id and version,
without a foreign key: the history outlives a version removed by hand.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NEW_COLUMNS = ("status", "reason", "reviewed_by", "reviewed_at", "published_at", "next_review_date")
OPS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    # Plain ADD COLUMN (not batch mode): SQLite keeps the table and its data-version triggers.
    op.add_column('indicator_descriptions', sa.Column('status', sa.String(length=20), server_default='published', nullable=False))
    op.add_column('indicator_descriptions', sa.Column('reason', sa.Text(), nullable=True))
    op.add_column('indicator_descriptions', sa.Column('reviewed_by', sa.String(length=200), nullable=True))
    op.add_column('indicator_descriptions', sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('indicator_descriptions', sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('indicator_descriptions', sa.Column('next_review_date', sa.Date(), nullable=True))
    op.execute("UPDATE indicator_descriptions SET published_at = created_at")
    op.execute(
        "UPDATE indicator_descriptions SET status = 'superseded' WHERE EXISTS (SELECT 1 FROM indicator_descriptions n "
        "WHERE n.measure_id = indicator_descriptions.measure_id AND (n.version_major > indicator_descriptions.version_major "
        "OR (n.version_major = indicator_descriptions.version_major AND n.version_minor > indicator_descriptions.version_minor)))"
    )
    op.create_table('description_review_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('description_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('measure_id', sa.String(length=64), nullable=False),
    sa.Column('version_major', sa.Integer(), nullable=False),
    sa.Column('version_minor', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status_before', sa.String(length=20), nullable=True),
    sa.Column('status_after', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_description_review_log')),
    )
    op.create_index('ix_description_review_log_measure_id', 'description_review_log', ['measure_id'], unique=False)
    table = 'description_review_log'
    if op.get_bind().dialect.name == "postgresql":  # the function is migration 0004's
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION indikera_bump_data_version()")
    else:
        for op_name in OPS:
            op.execute(f"CREATE TRIGGER {table}_data_version_{op_name.lower()} AFTER {op_name} ON {table} "
                       "BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END")


def downgrade() -> None:
    table = 'description_review_log'
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
    else:
        for op_name in OPS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{op_name.lower()}")
    op.drop_index('ix_description_review_log_measure_id', table_name=table)
    op.drop_table(table)
    # Only what was published stays visible after a downgrade: drafts and rejected versions are removed.
    op.execute("DELETE FROM indicator_descriptions WHERE status NOT IN ('published', 'superseded')")
    for name in reversed(NEW_COLUMNS):  # plain DROP COLUMN (SQLite ≥ 3.35): the table keeps its triggers
        op.drop_column('indicator_descriptions', name)
