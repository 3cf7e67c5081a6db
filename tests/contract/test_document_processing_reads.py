"""One document's processing state read under the document's own rule, on both storages
(`DocumentProcessing.of_readable`: what the upload page asks again and again): the states by
kind for a reader, `NotFound` for anyone else, and no view recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.errors import NotFound
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.processing import ProcessingState
from infrastructure.container import Container


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_readers_processing_state_is_read_without_a_view(container: Container) -> None:
    system = RequestContext.system()
    users = container.users()
    owner = await users.create(system, CreateUser(email="o@example.com", name="O", access_level=3))
    intern = await users.create(system, CreateUser(email="i@example.com", name="I"))
    as_owner, as_intern = RequestContext(actor=owner), RequestContext(actor=intern)
    uploads, processing = container.document_uploads(), container.document_processing()
    secret = await uploads.upload(
        as_owner, "a.txt", _chunks(b"merger plans"), DocumentFields(access_level=3)
    )

    pending = await processing.of_readable(as_owner, secret.id)
    await container.document_thumbnails().make(secret.id)
    done = await processing.of_readable(as_owner, secret.id)

    assert pending["thumbnail"].state is ProcessingState.PENDING
    assert done["thumbnail"].state is ProcessingState.DONE
    with pytest.raises(NotFound):
        await processing.of_readable(as_intern, secret.id)
    with pytest.raises(NotFound):
        await processing.of_readable(as_owner, uuid4())
    async with container.uow_factory()(autocommit=True) as uow:
        viewed = await uow.events.list(EventFilter(action="document.viewed"), PageRequest(10))
    assert viewed.items == []
