"""A documents site for the documents pages' HTTP tests: the web router on a fresh memory
container (the seam `web_router(viewer_of=...)` deciding who is signed in), people of each
role made by the system, and documents uploaded through the same use case the API uses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from uuid import UUID

import httpx
from litestar import Request

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import Document
from domain.users import User
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.web.session import Viewer
from tests.web.conftest import client_of, pages_for

CSRF = "t"


@dataclass
class Site:
    container: Container
    client: httpx.AsyncClient
    people: dict[str, User] = field(default_factory=dict)
    signed_in: list[Viewer | None] = field(default_factory=lambda: [None])

    def as_(self, who: str) -> Site:
        """Who the following requests come from."""
        self.signed_in[0] = Viewer(self.people[who], csrf_token=CSRF)
        return self

    async def person(
        self,
        who: str,
        *,
        role: str = "member",
        access_level: int = 1,
        department: str | None = None,
    ) -> User:
        command = CreateUser(
            email=f"{who}@example.com",
            name=who.title(),
            role=role,
            access_level=access_level,
            department=department,
        )
        self.people[who] = await self.container.users().create(RequestContext.system(), command)
        return self.people[who]

    async def document(
        self,
        owner: str,
        title: str,
        text: str | None = None,
        **fields: Any,
    ) -> Document:
        """A TXT document `owner` uploads (`fields`: DocumentFields)."""
        body = (text or f"The text of {title}.").encode()

        async def chunks() -> AsyncIterator[bytes]:
            yield body

        return await self.container.document_uploads().upload(
            RequestContext(actor=self.people[owner]),
            f"{title}.txt",
            chunks(),
            DocumentFields(title=title, **fields),
        )

    async def current(self, doc_id: UUID) -> Document:
        """The stored document, as the system reads it."""
        async with self.container.uow_factory()(autocommit=True) as uow:
            found = await uow.documents.get_readable(doc_id, self.people["admin"])
        assert found is not None
        return found.document

    async def post(self, path: str, data: dict[str, Any]) -> httpx.Response:
        return await self.client.post(path, data={"_csrf_token": CSRF, **data})


async def open_site(container: Container | None = None) -> tuple[Site, httpx.AsyncClient]:
    """A site on `container` (default: a fresh memory one), with an administrator."""
    container = container or build_container(AppSettings(storage="memory"))
    holder: list[Viewer | None] = [None]

    async def resolve(request: Request[Any, Any, Any]) -> Viewer | None:
        return holder[0]

    app = pages_for(resolve)
    app.state.container = container
    client = client_of(app)
    site = Site(container, client, signed_in=holder)
    await site.person("admin", role="admin", access_level=3)
    return site, client


def titles(html: str) -> list[str]:
    """The titles of the documents the list shows, in order."""
    return [
        unescape(t)
        for t in re.findall(
            r'<th scope="row" class="documents-table__title"><a href="[^"]+">([^<]*)</a>', html
        )
    ]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None
