"""Storage: SQLAlchemy Core tables, connection handling and Alembic migrations."""
