"""The baseline for `bench_me.py`: `GET /api/v1/me` on a bare Litestar app and a raw asyncpg pool.

No Archivist code path: the handler reads the bearer header, hashes it with SHA-256, runs the
statement Archivist's `SqlAlchemyApiTokenRepository.find_with_user` runs (the same join, the same
columns, the same text as SQLAlchemy renders it) with one `fetchrow`, applies the same checks
(401 when missing, unknown, revoked, expired or inactive; all in `harness.bearer_user`, which
the other raw apps share) and returns the same JSON fields as
Archivist's `/me`. It does not refresh `last_used_at` (Archivist does so at most once a minute).

Run: `BENCH_RAW_DSN=postgresql://... uvicorn --factory raw_me_app:create_app` from `bench/`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Litestar, Request, Response, get

from harness import UNAUTHORIZED, bearer_user, raw_app


@get("/api/v1/me")
async def get_me(request: Request[Any, Any, Any]) -> Response[Any] | dict[str, Any]:
    pool: asyncpg.Pool = request.app.state.pool
    row = await bearer_user(request, pool)
    if row is None:
        return UNAUTHORIZED
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
    return raw_app(get_me)
