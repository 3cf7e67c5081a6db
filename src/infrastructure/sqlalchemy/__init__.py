"""PostgreSQL adapters on SQLAlchemy 2 Core over asyncpg."""
