"""What only PostgreSQL enforces: CHECK constraints, ON DELETE rules, identity columns, and
the SQL adapter turning constraint violations into domain errors. Rows go in with raw SQL,
past the domain's own validation, so the database is what is being tested."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.errors import Conflict
from domain.tokens import ApiToken
from domain.users import User
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

INSERT_USER = text(
    "INSERT INTO users (id, email, name, access_level, role) "
    "VALUES (:id, :email, :name, :access_level, :role)"
)
INSERT_TOKEN = text(
    "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, expires_at) "
    "VALUES (:id, :user_id, 'cli', 'arv_abcdefgh', :token_hash, now() + interval '1 day')"
)
INSERT_EVENT = text(
    "INSERT INTO events (actor_id, action, subject_type, subject_id) "
    "VALUES (:actor_id, :action, 'user', 'someone')"
)


def _sqlstate_and_constraint(err: DBAPIError) -> tuple[str | None, str | None]:
    """SQLSTATE and constraint name of the driver error (asyncpg's, under SQLAlchemy's)."""
    driver = err.orig.__cause__ if err.orig is not None else None
    return getattr(driver, "sqlstate", None), getattr(driver, "constraint_name", None)


async def _insert_user(conn: AsyncConnection, **overrides: Any) -> uuid.UUID:
    values = {
        "id": uuid.uuid4(),
        "email": f"{uuid.uuid4().hex[:8]}@example.com",
        "name": "Someone",
        "access_level": 1,
        "role": "member",
        **overrides,
    }
    await conn.execute(INSERT_USER, values)
    return uuid.UUID(str(values["id"]))


async def _count(conn: AsyncConnection, sql: str, **params: Any) -> int:
    return int((await conn.execute(text(sql), params)).scalar_one())


@pytest.fixture
async def conn(pg_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that is rolled back: each test starts empty."""
    async with pg_engine.connect() as connection:
        await connection.begin()
        yield connection
        await connection.rollback()


# --- CHECK constraints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        pytest.param("access_level", 0, "ck_users_access_level_range", id="access_level-0"),
        pytest.param("access_level", 4, "ck_users_access_level_range", id="access_level-4"),
        pytest.param("role", "root", "ck_users_role_known", id="role-root"),
        pytest.param("email", "Someone@Example.com", "ck_users_email_lower_case", id="email-upper"),
    ],
)
async def test_users_check_constraint_rejects_a_bad_row(
    conn: AsyncConnection, column: str, value: object, constraint: str
) -> None:
    with pytest.raises(IntegrityError) as caught:
        await _insert_user(conn, **{column: value})

    assert _sqlstate_and_constraint(caught.value) == ("23514", constraint)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        pytest.param("access_level", 1, id="access_level-1"),
        pytest.param("access_level", 3, id="access_level-3"),
        pytest.param("role", "guest", id="role-guest"),
        pytest.param("role", "admin", id="role-admin"),
        pytest.param("email", "someone@example.com", id="email-lower"),
    ],
)
async def test_users_check_constraints_accept_the_allowed_values(
    conn: AsyncConnection, column: str, value: object
) -> None:
    """The control for the test above: the same insert with an allowed value succeeds."""
    await _insert_user(conn, **{column: value})

    assert await _count(conn, f"SELECT count(*) FROM users WHERE {column} = :v", v=value) == 1  # noqa: S608


async def test_users_email_is_unique_in_the_database(conn: AsyncConnection) -> None:
    await _insert_user(conn, email="same@example.com")

    with pytest.raises(IntegrityError) as caught:
        await _insert_user(conn, email="same@example.com")

    assert _sqlstate_and_constraint(caught.value) == ("23505", "ix_users_email")


async def test_settings_type_check_rejects_an_unknown_type(conn: AsyncConnection) -> None:
    with pytest.raises(IntegrityError) as caught:
        await conn.execute(
            text("INSERT INTO settings (key, value, type) VALUES ('k', '1'::jsonb, 'float')")
        )

    assert _sqlstate_and_constraint(caught.value) == ("23514", "ck_settings_type_known")


# --- ON DELETE rules ------------------------------------------------------------------------


async def test_deleting_a_user_deletes_their_api_tokens(conn: AsyncConnection) -> None:
    user_id = await _insert_user(conn)
    other_id = await _insert_user(conn)
    for owner, digest in ((user_id, "a"), (other_id, "b")):
        await conn.execute(
            INSERT_TOKEN, {"id": uuid.uuid4(), "user_id": owner, "token_hash": digest * 64}
        )

    await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})

    assert await _count(conn, "SELECT count(*) FROM api_tokens WHERE user_id = :u", u=user_id) == 0
    assert await _count(conn, "SELECT count(*) FROM api_tokens WHERE user_id = :u", u=other_id) == 1


async def test_deleting_a_user_keeps_their_events_with_actor_id_null(
    conn: AsyncConnection,
) -> None:
    user_id = await _insert_user(conn)
    await conn.execute(INSERT_EVENT, {"actor_id": user_id, "action": "user.created"})

    await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})

    rows = (await conn.execute(text("SELECT actor_id, action FROM events"))).all()
    assert [tuple(r) for r in rows] == [(None, "user.created")]


async def test_a_token_for_an_unknown_user_is_rejected(conn: AsyncConnection) -> None:
    with pytest.raises(IntegrityError) as caught:
        await conn.execute(
            INSERT_TOKEN, {"id": uuid.uuid4(), "user_id": uuid.uuid4(), "token_hash": "c" * 64}
        )

    assert _sqlstate_and_constraint(caught.value) == ("23503", "fk_api_tokens_user_id_users")


# --- events identity ------------------------------------------------------------------------


async def test_event_ids_are_assigned_by_the_database_in_insert_order(
    conn: AsyncConnection,
) -> None:
    for action in ("first", "second", "third"):
        await conn.execute(INSERT_EVENT, {"actor_id": None, "action": action})

    rows = (await conn.execute(text("SELECT action FROM events ORDER BY id"))).scalars().all()
    assert rows == ["first", "second", "third"]


async def test_event_ids_cannot_be_chosen_by_the_writer(conn: AsyncConnection) -> None:
    """GENERATED ALWAYS: the append-only order cannot be forged with an explicit id."""
    with pytest.raises(DBAPIError) as caught:
        await conn.execute(
            text(
                "INSERT INTO events (id, action, subject_type, subject_id) "
                "VALUES (1, 'forged', 'user', 'x')"
            )
        )

    assert _sqlstate_and_constraint(caught.value)[0] == "428C9"  # generated_always


# --- the SQL adapter's error mapping --------------------------------------------------------


def _user(email: str) -> User:
    return User.register(email=email, name="Someone", now=NOW)


async def test_adapter_maps_a_duplicate_email_to_conflict(pg_engine: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWorkFactory(pg_engine)
    async with uow() as first:
        await first.users.add(_user("taken@example.com"))
        await first.commit()

    async with uow() as second:
        with pytest.raises(Conflict, match="a user with this email already exists") as caught:
            await second.users.add(_user("Taken@Example.com"))

    assert isinstance(caught.value.__cause__, IntegrityError)
    async with pg_engine.connect() as conn:
        assert await _count(conn, "SELECT count(*) FROM users") == 1


async def test_adapter_maps_a_duplicate_token_hash_to_conflict(pg_engine: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWorkFactory(pg_engine)
    owner = _user("owner@example.com")
    token, secret = ApiToken.issue(user_id=owner.id, name="a", now=NOW, ttl=timedelta(days=1))
    async with uow() as first:
        await first.users.add(owner)
        await first.tokens.add(token)
        await first.commit()
    clash, _ = ApiToken.issue(user_id=owner.id, name="b", now=NOW, ttl=timedelta(days=1))
    clash.token_hash = hashlib.sha256(secret.encode()).hexdigest()

    async with uow() as second:
        with pytest.raises(Conflict, match="token collision"):
            await second.tokens.add(clash)
