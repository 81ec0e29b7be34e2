"""visibility over time (reserved: open-data sync and corrections)

Revision ID: 0008
Revises: 0007

Reserved so that work on several issues can add its schema changes in a fixed order; empty until then.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
