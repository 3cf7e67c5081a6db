"""Only a served app freezes the heap at start-up (`create_app(freeze_heap=True)`, as
`archivist serve` builds it): a process building many apps, as the tests do, must not keep
every app's objects for good."""

from __future__ import annotations

import gc

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import AppSettings
from infrastructure.container import build_container
from interfaces.http.app import create_app


@pytest.mark.parametrize("freeze_heap", [False, True])
async def test_the_heap_is_frozen_only_for_a_served_app(freeze_heap: bool) -> None:
    gc.unfreeze()
    app = create_app(build_container(AppSettings(storage="memory")), freeze_heap=freeze_heap)
    try:
        async with AsyncTestClient(app) as client:
            assert (await client.get("/health")).status_code == 200
            assert (gc.get_freeze_count() > 0) is freeze_heap
    finally:
        gc.unfreeze()
