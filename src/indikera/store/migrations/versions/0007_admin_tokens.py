"""admin tokens: expiring, revocable admin API tokens, stored as SHA-256 only

Revision ID: 0007
Revises: 0006

Why: tokens in the ``admin_tokens`` setting never expire and rotate only with a configuration change and a
restart. ``indikera admin token create|revoke|list`` keeps them here instead. No answer depends on this
table, so it has no data-version triggers (``store.tables.UNVERSIONED``).
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.String(length=200), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_tokens')),
    sa.UniqueConstraint('name', name=op.f('uq_admin_tokens_name')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_admin_tokens_token_sha256')),
    )


def downgrade() -> None:
    op.drop_table('admin_tokens')
