"""The constraint names both storages report (`infrastructure.constraints`) are the ones the
tables declare, so a message the in-memory adapter gives is the one PostgreSQL's would."""

from __future__ import annotations

from sqlalchemy import Index

from infrastructure import constraints
from infrastructure.sqlalchemy.tables import metadata


def _declared() -> set[str]:
    names: set[str] = set()
    for table in metadata.tables.values():
        names.update(str(c.name) for c in table.constraints if c.name is not None)
        names.update(str(i.name) for i in table.indexes if isinstance(i, Index) and i.name)
    return names


def test_every_constraint_named_for_both_storages_is_declared() -> None:
    named = {
        value
        for key, value in vars(constraints).items()
        if key.isupper() and isinstance(value, str)
    }
    assert len(named) >= 19
    assert named - _declared() == set()


def test_a_violation_reads_the_same_on_both_storages() -> None:
    assert str(constraints.conflict(constraints.IX_USERS_EMAIL)) == (
        "a user with this email already exists"
    )
    assert str(constraints.conflict(constraints.PK_DOCUMENTS)) == (
        "conflicts with existing data (pk_documents)"
    )
