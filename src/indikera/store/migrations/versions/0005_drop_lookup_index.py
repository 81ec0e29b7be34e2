"""drop ix_measurements_lookup: the unique key's index serves the same look-ups

Revision ID: 0005
Revises: 0004

Why: the index (indicator_id, period_start, period_end, content_hash) was meant to cover checksum-only
answers, but those also need each row's batch (visibility) and organisation (order), so it never covered
them; look-ups by indicator and period use the unique key's index, which starts with the same columns.
Checksum-only answers are now cached per data version (0004). Dropping it makes every insert cheaper:
about a fifth of the cost of writing a measurement row (``bench/bench_import.py``).
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_measurements_lookup', table_name='measurements')


def downgrade() -> None:
    op.create_index('ix_measurements_lookup', 'measurements', ['indicator_id', 'period_start', 'period_end', 'content_hash'],
                    unique=False)
