"""Adapters: SQLAlchemy (PostgreSQL), in-memory fakes, settings, and the DI container."""
