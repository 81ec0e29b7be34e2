"""catalogue: indicator descriptions and publication control

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_descriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('measure_id', sa.String(length=64), nullable=False),
    sa.Column('version_major', sa.Integer(), nullable=False),
    sa.Column('version_minor', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_descriptions')),
    sa.UniqueConstraint('measure_id', 'version_major', 'version_minor', name=op.f('uq_indicator_descriptions_measure_id_version_major_version_minor'))
    )
    op.create_table('publication_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('level_before', sa.String(length=20), nullable=True),
    sa.Column('level_after', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_publication_log_batch_id_batches')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_publication_log_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_log'))
    )
    with op.batch_alter_table('publication_log', schema=None) as batch_op:
        batch_op.create_index('ix_publication_log_at', ['at'], unique=False)
    op.create_table('publication_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('indicator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_publication_rules_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_rules')),
    sa.UniqueConstraint('indicator_id', 'period_start', 'period_end', name=op.f('uq_publication_rules_indicator_id_period_start_period_end'))
    )


def downgrade() -> None:
    op.drop_table('publication_rules')
    with op.batch_alter_table('publication_log', schema=None) as batch_op:
        batch_op.drop_index('ix_publication_log_at')
    op.drop_table('publication_log')
    op.drop_table('indicator_descriptions')
