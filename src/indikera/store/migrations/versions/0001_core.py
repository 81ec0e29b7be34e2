"""core tables: organisations, indicators, source systems, batches, measurements

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('registry_hsa_id', sa.String(length=100), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('depublished_by', sa.String(length=200), nullable=True),
    sa.Column('depublished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added', sa.Integer(), server_default='0', nullable=False),
    sa.Column('changed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('removed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_registry_hsa_id', ['registry_hsa_id'], unique=False)
    op.create_table('indicators',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('measure_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('unit_type', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('frequency', sa.String(length=30), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('parent_measure_id', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('display_threshold', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('measure_id', name=op.f('uq_indicators_measure_id'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hsa_id', sa.String(length=100), nullable=True),
    sa.Column('org_root', sa.String(length=100), nullable=True),
    sa.Column('org_extension', sa.String(length=100), nullable=True),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['organisations.id'], name=op.f('fk_organisations_parent_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('key', name=op.f('uq_organisations_key'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_parent_id', ['parent_id'], unique=False)
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('source_systems',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('root', sa.String(length=100), nullable=False),
    sa.Column('extension', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_systems')),
    sa.UniqueConstraint('root', 'extension', name=op.f('uq_source_systems_root_extension'))
    )
    op.create_table('measurement_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stratum', sa.String(length=30), server_default='', nullable=False),
    sa.Column('operation', sa.String(length=10), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_measurement_history_batch_id_batches')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_measurement_history_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_measurement_history_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement_history'))
    )
    with op.batch_alter_table('measurement_history', schema=None) as batch_op:
        batch_op.create_index('ix_measurement_history_batch_id', ['batch_id'], unique=False)
        batch_op.create_index('ix_measurement_history_recorded_at', ['recorded_at'], unique=False)
    op.create_table('measurements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stratum', sa.String(length=30), server_default='', nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('rate', sa.Float(), nullable=True),
    sa.Column('numerator', sa.Float(), nullable=True),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('population', sa.Float(), nullable=True),
    sa.Column('cohort', sa.Float(), nullable=True),
    sa.Column('reason_code', sa.String(length=3), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('standard_deviation', sa.Float(), nullable=True),
    sa.Column('coverage', sa.Float(), nullable=True),
    sa.Column('exclusions', sa.Float(), nullable=True),
    sa.Column('reference_interval', sa.Float(), nullable=True),
    sa.Column('first_encounter', sa.Date(), nullable=True),
    sa.Column('last_encounter', sa.Date(), nullable=True),
    sa.Column('source_system_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('proportion','continuous','cohort','missing')", name=op.f('ck_measurements_kind')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_measurements_batch_id_batches')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_measurements_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_measurements_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['source_system_id'], ['source_systems.id'], name=op.f('fk_measurements_source_system_id_source_systems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements')),
    sa.UniqueConstraint('indicator_id', 'period_start', 'period_end', 'organisation_id', 'stratum', name=op.f('uq_measurements_indicator_id_period_start_period_end_organisation_id_stratum'))
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index('ix_measurements_batch_id', ['batch_id'], unique=False)
        batch_op.create_index('ix_measurements_lookup', ['indicator_id', 'period_start', 'period_end', 'content_hash'], unique=False)
        batch_op.create_index('ix_measurements_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index('ix_measurements_updated_at')
        batch_op.drop_index('ix_measurements_lookup')
        batch_op.drop_index('ix_measurements_batch_id')
    op.drop_table('measurements')
    with op.batch_alter_table('measurement_history', schema=None) as batch_op:
        batch_op.drop_index('ix_measurement_history_recorded_at')
        batch_op.drop_index('ix_measurement_history_batch_id')
    op.drop_table('measurement_history')
    op.drop_table('source_systems')
    op.drop_table('settings')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_parent_id')
    op.drop_table('organisations')
    op.drop_table('indicators')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_registry_hsa_id')
    op.drop_table('batches')
