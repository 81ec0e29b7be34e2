"""Import every table module so that :data:`metadata` knows all tables (for Alembic and tests)."""

from . import access_tables, catalog_tables, summary_tables, tables  # noqa: F401
from .metadata import metadata

__all__ = ["metadata"]
