"""visibility over time: publication time of each value, corrections waiting for approval, removal tombstones

Revision ID: 0008
Revises: 0007

Why (issues #15 and #16):
* ``measurements.visible_since``: when the value, as it is now, became visible to the public (batch approval,
  an indicator or period opening, a correction's approval). ``updatedSince`` filters and orders on it: the
  import time (``updated_at``) made a sync miss every value approved or re-opened after it was loaded.
* ``pending_changes``: an import that changes or removes a value that is already approved does not touch it;
  the new values wait here until the batch is approved, so every channel keeps showing the approved value.
* ``result_removals``: a tombstone (the open-data key of a result, when, why) for every value that stops
  being public, written in the same transaction as the action: a syncing consumer sees removals by key.
Both new tables bump the data version (migration 0004's triggers), as every table an answer depends on.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEW = ("pending_changes", "result_removals")
OPS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    # A plain ADD COLUMN (no batch move-and-copy on SQLite, which would drop the table's triggers).
    op.add_column('measurements', sa.Column('visible_since', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_measurements_visible_since', 'measurements', ['visible_since', 'id'])
    # Best estimate for stored values: the latest of their batch's approval, their write and their indicator's
    # indicator-wide rule change (an opening); values of unapproved batches get theirs on approval.
    op.execute("UPDATE measurements SET visible_since = (SELECT b.approved_at FROM batches b "
               "WHERE b.id = measurements.batch_id AND b.status = 'approved')")
    op.execute("UPDATE measurements SET visible_since = updated_at "
               "WHERE visible_since IS NOT NULL AND updated_at > visible_since")
    op.execute("UPDATE measurements SET visible_since = (SELECT r.changed_at FROM publication_rules r "
               "WHERE r.indicator_id = measurements.indicator_id AND r.period_start IS NULL) "
               "WHERE visible_since IS NOT NULL AND EXISTS (SELECT 1 FROM publication_rules r "
               "WHERE r.indicator_id = measurements.indicator_id AND r.period_start IS NULL "
               "AND r.changed_at > measurements.visible_since)")
    op.create_table(
        'pending_changes',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('batch_id', Id, nullable=False),
        sa.Column('measurement_id', Id, nullable=False),
        sa.Column('operation', sa.String(10), nullable=False),
        sa.Column('version', sa.Integer()),
        sa.Column('kind', sa.String(20)),
        *(sa.Column(c, sa.Float()) for c in ('rate', 'numerator', 'denominator', 'value', 'population', 'cohort')),
        sa.Column('reason_code', sa.String(3)),
        *(sa.Column(c, sa.Float()) for c in ('ci_low', 'ci_high', 'standard_deviation', 'coverage', 'exclusions',
                                             'reference_interval')),
        sa.Column('first_encounter', sa.Date()),
        sa.Column('last_encounter', sa.Date()),
        sa.Column('source_system_id', Id),
        sa.Column('content_hash', sa.String(64)),
        sa.Column('updated_at', sa.DateTime(timezone=True)),
        sa.CheckConstraint("operation IN ('change','remove')", name=op.f('ck_pending_changes_operation')),
        sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_pending_changes_batch_id_batches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_changes')),
        sa.UniqueConstraint('measurement_id', 'batch_id', name=op.f('uq_pending_changes_measurement_id_batch_id')),
    )
    op.create_index('ix_pending_changes_batch_id', 'pending_changes', ['batch_id'])
    op.create_table(
        'result_removals',
        sa.Column('id', Id, autoincrement=True, nullable=False),
        sa.Column('indicator_id', Id, nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('organisation_id', Id, nullable=False),
        sa.Column('stratum', sa.String(30), nullable=False, server_default=''),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_result_removals_indicator_id_indicators')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_result_removals_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_result_removals')),
    )
    op.create_index('ix_result_removals_at', 'result_removals', ['at', 'id'])
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW:  # the function is migration 0004's
            op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION indikera_bump_data_version()")
    else:
        for table in NEW:
            for op_name in OPS:
                op.execute(f"CREATE TRIGGER {table}_data_version_{op_name.lower()} AFTER {op_name} ON {table} "
                           "BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END")


def downgrade() -> None:
    op.drop_table('result_removals')  # drops its triggers too
    op.drop_table('pending_changes')
    op.drop_index('ix_measurements_visible_since', table_name='measurements')
    op.drop_column('measurements', 'visible_since')  # SQLite ≥ 3.35: a plain DROP COLUMN, triggers kept
