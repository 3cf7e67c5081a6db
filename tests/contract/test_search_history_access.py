"""Search history on both storages shows a logged response's sources only as far as the
reader may read them now, and its answer only while the top source is one of them (issue #9,
item 7): access changes after the search, and stored sources of any shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from dependency_injector import providers

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import DocumentType
from domain.pagination import PageRequest
from domain.search import SearchQueryLog, SearchResponseLog
from domain.users import User
from infrastructure.container import Container
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()


async def _users(c: Container) -> tuple[RequestContext, RequestContext]:
    c.clock.override(providers.Object(SteppingClock()))
    admin = await c.users().create(
        SYSTEM, CreateUser(email="a@example.com", name="A", role="admin", access_level=3)
    )
    reader = await c.users().create(SYSTEM, CreateUser(email="r@example.com", name="R"))
    return RequestContext(actor=admin), RequestContext(actor=reader)


async def _doc(c: Container, ctx: RequestContext, title: str, level: int = 1) -> UUID:
    doc = await c.document_uploads().create_text(
        ctx, f"{title} body text", DocumentType.TXT, DocumentFields(title=title, access_level=level)
    )
    return doc.id


async def _log(c: Container, user: User, answer: str, sources: list[Any]) -> None:
    """A logged search with exactly these stored sources, written through the port."""
    at = datetime.fromisoformat("2026-01-02T00:00:00+00:00")
    query = SearchQueryLog(uuid4(), user.id, "logged", None, {}, at)
    response = SearchResponseLog(uuid4(), query.id, answer, sources, len(sources), 1, at)
    async with c.uow_factory()() as uow:
        await uow.search_logs.log(query, response)
        await uow.commit()


def _source(doc_id: Any, title: str = "t") -> dict[str, Any]:
    return {"document_id": doc_id, "title": title, "score": 1.0, "snippet": title}


async def test_a_revoked_grant_takes_sources_and_answer_out_of_history(
    container: Container,
) -> None:
    admin, reader = await _users(container)
    assert reader.actor is not None
    secret = await _doc(container, admin, "secret", level=3)
    public = await _doc(container, admin, "public")
    await container.grants().grant(admin, secret, reader.actor.id, "read")
    await _log(
        container, reader.actor, "from the secret", [_source(str(secret)), _source(str(public))]
    )

    granted = (await container.search().history(reader, PageRequest())).items[0].response
    await container.grants().revoke(admin, secret, reader.actor.id)
    revoked = (await container.search().history(reader, PageRequest())).items[0].response

    assert granted is not None and revoked is not None
    assert [s["document_id"] for s in granted.sources] == [str(secret), str(public)]
    assert granted.answer == "from the secret"
    assert [s["document_id"] for s in revoked.sources] == [str(public)]
    assert (revoked.answer, revoked.result_count) == ("", 2)


async def test_sources_of_any_stored_shape_are_shown_only_when_readable(
    container: Container,
) -> None:
    admin, reader = await _users(container)
    assert reader.actor is not None
    readable = await _doc(container, admin, "readable")
    hidden = await _doc(container, admin, "hidden", level=3)
    stored = [
        _source(str(readable), "first"),
        _source(str(hidden)),
        _source(str(uuid4())),  # purged since
        _source("not-a-uuid"),
        _source(str(readable).replace("-", "")),  # not the canonical form
        {"title": "no id"},
        _source(str(readable).upper(), "upper"),
        _source(7),
    ]
    await _log(container, reader.actor, "kept", stored)

    [entry] = (await container.search().history(reader, PageRequest())).items
    [as_admin] = (await container.search().history(admin, PageRequest(), reader.actor.id)).items

    assert entry.response is not None and as_admin.response is not None
    assert [s["title"] for s in entry.response.sources] == ["first", "upper"]
    assert entry.response.answer == "kept"
    assert [s["title"] for s in as_admin.response.sources] == ["first", "t", "upper"]


async def test_a_search_with_no_sources_keeps_its_empty_answer(container: Container) -> None:
    _, reader = await _users(container)
    assert reader.actor is not None
    await _log(container, reader.actor, "", [])

    [entry] = (await container.search().history(reader, PageRequest())).items

    assert entry.response is not None
    assert (entry.response.answer, entry.response.sources) == ("", [])
