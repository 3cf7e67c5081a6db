"""The app runs its container's job worker only when told to (`create_app(run_workers=True)`,
as `archivist serve` builds it by default): an app built for a test leaves jobs to the test."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient

from domain.jobs import JsonObject
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.http.app import create_app


async def _enqueue(container: Container, payload: JsonObject) -> None:
    async with container.uow_factory()() as uow:
        await uow.jobs.enqueue("probe", payload)
        await uow.commit()


@pytest.mark.parametrize("run_workers", [False, True])
async def test_the_app_runs_jobs_only_with_run_workers(run_workers: bool) -> None:
    container = build_container(AppSettings(storage="memory"))
    ran: list[JsonObject] = []
    done = asyncio.Event()

    async def handle(payload: JsonObject) -> None:
        ran.append(payload)
        done.set()

    container.job_handlers().register("probe", handle)
    await _enqueue(container, {"n": 1})

    async with AsyncTestClient(create_app(container, run_workers=run_workers)) as client:
        assert (await client.get("/health")).status_code == 200
        if run_workers:
            async with asyncio.timeout(10):
                await done.wait()
        else:
            await asyncio.sleep(0.5)  # more than the runner's poll: it would have run by now

    assert ran == ([{"n": 1}] if run_workers else [])


def test_the_worker_settings_default_to_in_process_and_two_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ARCHIVIST_WORKERS_IN_PROCESS", raising=False)
    monkeypatch.delenv("ARCHIVIST_WORKER_CONCURRENCY", raising=False)
    settings = AppSettings(_env_file=None)
    assert (settings.workers_in_process, settings.worker_concurrency) == (True, 2)
