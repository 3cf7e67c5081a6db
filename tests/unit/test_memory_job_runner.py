"""`InMemoryJobRunner`: runs the in-memory store's committed jobs with the registered handlers,
deterministically, by the retry rules of the PostgreSQL worker without its waits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from application.jobs import JobHandlers, RetryPolicy
from domain.errors import NotFound
from domain.jobs import JobState, JsonObject
from infrastructure.memory.job_runner import InMemoryJobRunner
from infrastructure.memory.jobs import JobStatus
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory

# Delays the in-memory runner never waits for.
THREE_RUNS = RetryPolicy(3, initial_delay=timedelta(hours=1), max_delay=timedelta(hours=4))


@dataclass
class Setup:
    store: InMemoryStore = field(default_factory=InMemoryStore)
    handlers: JobHandlers = field(default_factory=JobHandlers)
    runs: list[tuple[str, JsonObject]] = field(default_factory=list)

    @property
    def uow_factory(self) -> InMemoryUnitOfWorkFactory:
        return InMemoryUnitOfWorkFactory(self.store)

    @property
    def runner(self) -> InMemoryJobRunner:
        return InMemoryJobRunner(self.store, self.handlers)

    async def enqueue(self, kind: str, payload: JsonObject, *, priority: int = 0) -> None:
        async with self.uow_factory() as uow:
            await uow.jobs.enqueue(kind, payload, priority=priority)
            await uow.commit()

    async def queued(self) -> list[tuple[str, JobState]]:
        async with self.uow_factory(autocommit=True) as uow:
            return [(j.kind, j.state) for j in await uow.jobs.queued()]

    def recorder(self, kind: str, failures: list[Exception] | None = None) -> None:
        """Register `kind` with a handler recording each run, raising `failures` in turn."""
        pending = list(failures or [])

        async def handle(payload: JsonObject) -> None:
            self.runs.append((kind, payload))
            if pending:
                raise pending.pop(0)

        self.handlers.register(kind, handle, THREE_RUNS)


@pytest.fixture
def setup() -> Setup:
    return Setup()


async def test_committed_jobs_run_once_highest_priority_then_oldest_first(setup: Setup) -> None:
    setup.recorder("ocr")
    setup.recorder("thumbnail")
    await setup.enqueue("ocr", {"n": 1})
    await setup.enqueue("thumbnail", {"n": 2}, priority=5)
    await setup.enqueue("ocr", {"n": 3})

    assert await setup.runner.run_pending() == 3

    assert setup.runs == [("thumbnail", {"n": 2}), ("ocr", {"n": 1}), ("ocr", {"n": 3})]
    assert await setup.queued() == []
    assert setup.store.jobs == {}  # done jobs leave the queue, as in pgqueuer
    assert await setup.runner.run_pending() == 0


async def test_an_uncommitted_job_does_not_run(setup: Setup) -> None:
    setup.recorder("ocr")
    async with setup.uow_factory() as uow:
        await uow.jobs.enqueue("ocr", {"n": 1})
        assert await setup.runner.run_pending() == 0
        await uow.rollback()

    assert await setup.runner.run_pending() == 0
    assert setup.runs == []


async def test_a_failing_job_is_retried_at_once_until_it_succeeds(setup: Setup) -> None:
    setup.recorder("ocr", [OSError("busy"), OSError("still busy")])
    await setup.enqueue("ocr", {"n": 1})

    assert await setup.runner.run_pending() == 3

    assert setup.runs == [("ocr", {"n": 1})] * 3
    assert setup.runner.failed() == []
    assert await setup.queued() == []


async def test_a_job_whose_attempts_are_spent_is_held_as_failed_with_its_last_error(
    setup: Setup,
) -> None:
    setup.recorder("ocr", [OSError("one"), OSError("two"), OSError("three"), OSError("four")])
    await setup.enqueue("ocr", {"n": 1})

    assert await setup.runner.run_pending() == 3

    [failed] = setup.runner.failed()
    assert (failed.kind, failed.state, failed.error) == ("ocr", JobStatus.FAILED, "OSError: three")
    assert failed.attempts == 2  # retries, as pgqueuer counts them
    assert await setup.queued() == []  # a failed job is not waiting
    assert await setup.runner.run_pending() == 0  # and is not run again


async def test_a_domain_error_holds_the_job_as_failed_without_a_retry(setup: Setup) -> None:
    setup.recorder("thumbnail", [NotFound("document", "d1")])
    await setup.enqueue("thumbnail", {"document_id": "d1"})

    assert await setup.runner.run_pending() == 1

    [failed] = setup.runner.failed()
    assert (failed.state, failed.attempts) == (JobStatus.FAILED, 0)
    assert failed.error == "NotFound: document d1 was not found"


async def test_a_failed_job_no_longer_holds_its_dedupe_key(setup: Setup) -> None:
    setup.recorder("ocr", [NotFound("document", "d1")])
    async with setup.uow_factory() as uow:
        await uow.jobs.enqueue("ocr", {"n": 1}, dedupe_key="ocr:d1")
        await uow.commit()
    await setup.runner.run_pending()

    async with setup.uow_factory() as uow:
        assert await uow.jobs.enqueue("ocr", {"n": 2}, dedupe_key="ocr:d1") is True


async def test_one_failing_job_does_not_stop_the_others(setup: Setup) -> None:
    setup.recorder("ocr", [NotFound("document", "d1")])
    await setup.enqueue("ocr", {"n": 1})
    await setup.enqueue("ocr", {"n": 2})

    assert await setup.runner.run_pending() == 2

    assert [p for _, p in setup.runs] == [{"n": 1}, {"n": 2}]
    assert len(setup.runner.failed()) == 1


async def test_a_job_without_a_handler_stays_queued(setup: Setup) -> None:
    setup.recorder("ocr")
    await setup.enqueue("thumbnail", {"n": 1})
    await setup.enqueue("ocr", {"n": 2})

    assert await setup.runner.run_pending() == 1

    assert await setup.queued() == [("thumbnail", JobState.QUEUED)]


async def test_jobs_a_handler_enqueues_run_in_the_same_call(setup: Setup) -> None:
    async def fan_out(payload: JsonObject) -> None:
        setup.runs.append(("split", payload))
        async with setup.uow_factory() as uow:
            await uow.jobs.enqueue("page", {"page": 1})
            await uow.jobs.enqueue("page", {"page": 2})
            await uow.commit()

    setup.handlers.register("split", fan_out)
    setup.recorder("page")
    await setup.enqueue("split", {"document": "d1"})

    assert await setup.runner.run_pending() == 3

    assert setup.runs == [
        ("split", {"document": "d1"}),
        ("page", {"page": 1}),
        ("page", {"page": 2}),
    ]


async def test_a_job_is_running_while_its_handler_runs(setup: Setup) -> None:
    seen: list[list[tuple[str, JobState]]] = []

    async def look(payload: JsonObject) -> None:
        seen.append(await setup.queued())

    setup.handlers.register("ocr", look)
    await setup.enqueue("ocr", {})
    await setup.runner.run_pending()

    assert seen == [[("ocr", JobState.RUNNING)]]


async def test_started_in_the_background_it_runs_what_is_committed_and_stops(
    setup: Setup,
) -> None:
    ran = asyncio.Event()

    async def handle(payload: JsonObject) -> None:
        setup.runs.append(("ocr", payload))
        ran.set()

    setup.handlers.register("ocr", handle)
    runner = InMemoryJobRunner(setup.store, setup.handlers, poll_seconds=0.01)
    await runner.start()
    try:
        await setup.enqueue("ocr", {"n": 1})
        async with asyncio.timeout(5):
            await ran.wait()
    finally:
        await runner.stop()

    assert setup.runs == [("ocr", {"n": 1})]
    await setup.enqueue("ocr", {"n": 2})
    await asyncio.sleep(0.05)
    assert len(setup.runs) == 1  # stopped: nothing more runs
