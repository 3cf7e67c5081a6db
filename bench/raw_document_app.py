"""The baseline for `bench_documents.py`: `GET /api/v1/documents/{id}` on a bare Litestar app
and a raw asyncpg pool.

No Archivist code path. The handler does by hand what Archivist does for that route:

1. the bearer token: SHA-256 of the header, the token+user join, one `fetchrow` in
   autocommit, the same 401 rules (`harness.bearer_user`, as `raw_me_app.py`);
2. in one transaction (BEGIN … COMMIT, as `DocumentReads.get`'s unit of work): the
   document with the access predicate for that user and the grant subquery (the statement
   SQLAlchemy renders for `SqlAlchemyDocumentRepository.get_readable`, byte for byte apart
   from the specialised predicate, which is built here for the reader the same way
   `infrastructure/sqlalchemy/access.py` builds it), the tags query, and the INSERT of the
   `document.viewed` event (with `RETURNING events.id`, as SQLAlchemy sends it);
3. the same JSON fields as Archivist's `Document` and the same `ETag: W/"<version>"`;
   404 when the document is not readable.

Run: `BENCH_RAW_DSN=postgresql://... uvicorn --factory raw_document_app:create_app` from `bench/`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar, Request, Response, get

from harness import UNAUTHORIZED, bearer_user, raw_app

_SELECT_DOCUMENT = (
    "SELECT documents.id, documents.title, documents.content, documents.document_type, "
    "documents.source, documents.access_level, documents.department, documents.metadata, "
    "documents.owner_id, documents.category_id, documents.original_filename, "
    "documents.extension, documents.mime_type, documents.size_bytes, documents.sha256, "
    "documents.storage_key, documents.thumbnail_key, documents.version, documents.deleted_at, "
    "documents.created_at, documents.updated_at, categories.name AS category_name, "
    "(SELECT permissions.access \nFROM permissions \n"
    "WHERE permissions.document_id = documents.id AND permissions.user_id = $1::UUID) "
    "AS grant_access \n"
    "FROM documents LEFT OUTER JOIN categories ON categories.id = documents.category_id \n"
)
# The access predicate for a member (access.readable_by with include_trash=True): owner,
# grant, or clearance and department; trashed documents for their owner only.
GET_READABLE_WITH_DEPARTMENT = (
    _SELECT_DOCUMENT + "WHERE documents.id = $2::UUID AND (documents.deleted_at IS NULL AND "
    "(documents.owner_id = $3::UUID OR (EXISTS (SELECT * \nFROM permissions \n"
    "WHERE permissions.document_id = documents.id AND permissions.user_id = $4::UUID)) OR "
    "documents.access_level <= $5::INTEGER AND (documents.department IS NULL OR "
    "documents.department = $6::VARCHAR)) OR documents.deleted_at IS NOT NULL AND "
    "documents.owner_id = $3::UUID)"
)
GET_READABLE_NO_DEPARTMENT = (
    _SELECT_DOCUMENT + "WHERE documents.id = $2::UUID AND (documents.deleted_at IS NULL AND "
    "(documents.owner_id = $3::UUID OR (EXISTS (SELECT * \nFROM permissions \n"
    "WHERE permissions.document_id = documents.id AND permissions.user_id = $4::UUID)) OR "
    "documents.access_level <= $5::INTEGER AND documents.department IS NULL) OR "
    "documents.deleted_at IS NOT NULL AND documents.owner_id = $3::UUID)"
)
TAGS_OF = (
    "SELECT document_tags.document_id, tags.name \n"
    "FROM document_tags JOIN tags ON tags.id = document_tags.tag_id \n"
    "WHERE document_tags.document_id IN ($1::UUID) "
    'ORDER BY document_tags.document_id, tags.name COLLATE "C"'
)
INSERT_EVENT = (
    "INSERT INTO events (occurred_at, actor_id, action, subject_type, subject_id, client_ip, "
    "user_agent, data) VALUES ($1::TIMESTAMP WITH TIME ZONE, $2::UUID, $3::VARCHAR, "
    "$4::VARCHAR, $5::VARCHAR, $6, $7::VARCHAR, $8::JSONB) RETURNING events.id"
)


def _not_found(doc_id: UUID) -> Response[Any]:
    return Response(
        {"status": 404, "title": "Not Found", "detail": f"document {doc_id} not found"},
        status_code=404,
        media_type="application/problem+json",
    )


@get("/api/v1/documents/{doc_id:uuid}")
async def get_document(request: Request[Any, Any, Any], doc_id: UUID) -> Response[Any]:
    pool: asyncpg.Pool = request.app.state.pool
    user = await bearer_user(request, pool)
    if user is None:
        return UNAUTHORIZED
    if user["u_role"] == "admin":  # not what the benchmark measures
        raise NotImplementedError("the raw app serves members only")
    uid = user["u_id"]
    department = user["u_department"]
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        if department is None:
            row = await conn.fetchrow(
                GET_READABLE_NO_DEPARTMENT, uid, doc_id, uid, uid, user["u_access_level"]
            )
        else:
            row = await conn.fetchrow(
                GET_READABLE_WITH_DEPARTMENT,
                uid,
                doc_id,
                uid,
                uid,
                user["u_access_level"],
                department,
            )
        if row is None:
            return _not_found(doc_id)
        tags = [r["name"] for r in await conn.fetch(TAGS_OF, doc_id)]
        agent = request.headers.get("user-agent")
        await conn.fetchval(
            INSERT_EVENT,
            now,
            uid,
            "document.viewed",
            "document",
            str(doc_id),
            request.client.host if request.client else None,
            agent[:500] if agent else None,
            "{}",
        )
    metadata = row["metadata"]
    return Response(
        {
            "id": row["id"],
            "title": row["title"],
            "document_type": row["document_type"],
            "source": row["source"],
            "access_level": row["access_level"],
            "department": row["department"],
            "metadata": json.loads(metadata) if metadata is not None else None,
            "owner_id": row["owner_id"],
            "category_id": row["category_id"],
            "tags": tags,
            "original_filename": row["original_filename"],
            "extension": row["extension"],
            "mime_type": row["mime_type"],
            "size_bytes": row["size_bytes"],
            "sha256": row["sha256"],
            "version": row["version"],
            "deleted_at": row["deleted_at"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "content": row["content"],
        },
        headers={"ETag": f'W/"{row["version"]}"'},
    )


def create_app() -> Litestar:
    """The app, for `uvicorn --factory`; the DSN comes from `BENCH_RAW_DSN`."""
    return raw_app(get_document)
