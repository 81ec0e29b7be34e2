"""Persistence: SQLAlchemy tables, repositories and the Alembic migration stream.

SQLite is the embedded default; PostgreSQL (``postgresql+psycopg://``) serves larger registries.
"""
