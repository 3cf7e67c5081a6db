"""The baseline for `bench_me.py`: `GET /api/v1/me` on a bare Litestar app and a raw asyncpg pool.

No Archivist code path: the handler reads the bearer header, hashes it with SHA-256, runs the
statement Archivist's `SqlAlchemyApiTokenRepository.find_with_user` runs (the same join, the same
columns, the same text as SQLAlchemy renders it) with one `fetchrow`, applies the same checks
(401 when missing, unknown, revoked, expired or inactive) and returns the same JSON fields as
Archivist's `/me`. It does not refresh `last_used_at` (Archivist does so at most once a minute).

Run: `BENCH_RAW_DSN=postgresql://... uvicorn --factory raw_me_app:create_app` from `bench/`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response, get

DSN_ENV = "BENCH_RAW_DSN"
POOL_SIZE = 10  # Archivist's default ARCHIVIST_DB_POOL_SIZE

# What SQLAlchemy renders for `_FIND_TOKEN_WITH_USER` (infrastructure/sqlalchemy/repositories.py).
FIND_TOKEN_WITH_USER = (
    "SELECT api_tokens.id, api_tokens.user_id, api_tokens.name, api_tokens.prefix, "
    "api_tokens.token_hash, api_tokens.created_at, api_tokens.expires_at, "
    "api_tokens.last_used_at, api_tokens.revoked_at, users.id AS u_id, users.email AS u_email, "
    "users.name AS u_name, users.department AS u_department, "
    "users.access_level AS u_access_level, users.role AS u_role, "
    "users.is_active AS u_is_active, users.last_login_at AS u_last_login_at, "
    "users.last_login_ip AS u_last_login_ip, users.created_at AS u_created_at, "
    "users.updated_at AS u_updated_at \n"
    "FROM api_tokens JOIN users ON users.id = api_tokens.user_id \n"
    "WHERE api_tokens.token_hash = $1::VARCHAR"
)

_UNAUTHORIZED: Response[Any] = Response(
    {"status": 401, "title": "Unauthorized"},
    status_code=401,
    media_type="application/problem+json",
    headers={"www-authenticate": "Bearer"},
)


def plain_dsn(url: str) -> str:
    """asyncpg wants `postgresql://`; Archivist's URLs may say `postgresql+asyncpg://`."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@get("/api/v1/me")
async def get_me(request: Request[Any, Any, Any]) -> Response[Any] | dict[str, Any]:
    header = request.headers.get("authorization")
    if not header:
        return _UNAUTHORIZED
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return _UNAUTHORIZED
    token_hash = hashlib.sha256(secret.encode()).hexdigest()
    pool: asyncpg.Pool = request.app.state.pool
    row = await pool.fetchrow(FIND_TOKEN_WITH_USER, token_hash)
    if (
        row is None
        or row["revoked_at"] is not None
        or datetime.now(UTC) >= row["expires_at"]
        or not row["u_is_active"]
    ):
        return _UNAUTHORIZED
    return {
        "id": row["u_id"],
        "email": row["u_email"],
        "name": row["u_name"],
        "department": row["u_department"],
        "access_level": row["u_access_level"],
        "role": row["u_role"],
        "is_active": row["u_is_active"],
        "last_login_at": row["u_last_login_at"],
        "created_at": row["u_created_at"],
        "updated_at": row["u_updated_at"],
        "token_id": row["id"],
    }


def create_app() -> Litestar:
    """The app, for `uvicorn --factory`; the DSN comes from `BENCH_RAW_DSN`."""
    dsn = plain_dsn(os.environ[DSN_ENV])

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    return Litestar(route_handlers=[get_me], lifespan=[lifespan], openapi_config=None)
