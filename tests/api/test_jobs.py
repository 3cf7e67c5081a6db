"""Processing state and the admin job routes over HTTP (issue #12 item 4), on both storages:
a document shows each kind of background work pending, done or failed with its reason; the
listing filters on it; administrators see the queue by kind and state with the recent
failures, and retry a failed job, which marks the document pending again."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families

from domain.errors import ValidationFailed
from infrastructure.container import Container
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.job_worker import PgJobWorker
from tests.api.conftest import API, Api, Caller, assert_problem, recorded_events, uploaded


class RefusingThumbnails:
    """A thumbnail maker that refuses every file (a `DomainError`: failed for good)."""

    async def make(self, doc_id: UUID) -> str | None:
        raise ValidationFailed.on("file", f"cannot draw {doc_id}")


async def run_jobs(container: Container, pg: Database | None) -> None:
    """Run the queued jobs with the container's handlers until none waits."""
    if pg is None:
        await container.job_worker().run_pending()
        return
    worker = PgJobWorker(pg.url, container.job_handlers(), 1)
    await worker.start()
    try:
        async with asyncio.timeout(30):
            while True:
                async with container.uow_factory()(autocommit=True) as uow:
                    if not await uow.jobs.queued():
                        break
                await asyncio.sleep(0.05)
    finally:
        await worker.stop()


async def document(api: Api, doc_id: str) -> dict[str, Any]:
    response = await api.client.get(f"{API}/documents/{doc_id}", headers=api.member.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(api: Api, **params: str) -> list[str]:
    response = await api.client.get(f"{API}/documents", params=params, headers=api.member.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def jobs(api: Api, caller: Caller | None = None, **params: str) -> Any:
    response = await api.client.get(
        f"{API}/jobs", params=params, headers=(caller or api.admin).headers
    )
    return response.json() if response.status_code == 200 else response


async def test_a_failed_thumbnail_shows_and_a_retry_makes_it(api: Api, pg: Database | None) -> None:
    doc = await uploaded(api, api.member, "notes.txt", b"alpha beta gamma")
    other = await uploaded(api, api.member, "other.txt", b"delta epsilon")
    pending = await document(api, doc["id"])
    assert pending["processing"]["thumbnail"]["state"] == "pending"
    assert pending["needs_ocr"] is False
    assert doc["processing"] is None  # the upload's answer does not read it
    assert set(await listed(api, processing="thumbnail:pending")) == {doc["id"], other["id"]}

    api.container.document_thumbnails.override(providers.Object(RefusingThumbnails()))
    try:
        await run_jobs(api.container, pg)
    finally:
        api.container.document_thumbnails.reset_override()
    failed = (await document(api, doc["id"]))["processing"]["thumbnail"]
    overview = await jobs(api)

    assert failed["state"] == "failed"
    assert failed["reason"] == f"ValidationFailed: file: cannot draw {doc['id']}"
    assert set(await listed(api, processing="failed")) == {doc["id"], other["id"]}
    assert await listed(api, processing="thumbnail:done") == []
    assert await listed(api, processing="ocr:failed") == []
    listing = await api.client.get(f"{API}/documents", headers=api.member.headers)
    assert {i["processing"]["thumbnail"]["state"] for i in listing.json()["items"]} == {"failed"}
    assert overview["finished_window_hours"] == 24
    assert overview["kinds"] == [
        {
            "kind": "thumbnail",
            "queued": 0,
            "running": 0,
            "failed": 2,
            "done_recently": 0,
            "failed_recently": 2,
        }
    ]
    [newest, oldest] = overview["failures"]
    assert {newest["document_id"], oldest["document_id"]} == {doc["id"], other["id"]}
    assert newest["kind"] == "thumbnail" and newest["attempts"] == 1
    assert newest["error"].startswith("ValidationFailed: file: cannot draw")
    assert newest["failed_at"] >= oldest["failed_at"]
    assert len((await jobs(api, limit="1"))["failures"]) == 1

    job_id = next(f["id"] for f in overview["failures"] if f["document_id"] == doc["id"])
    retried = await api.client.post(f"{API}/jobs/{job_id}/retry", headers=api.admin.headers)
    assert retried.status_code == 202, retried.text
    assert retried.json() == {
        "id": job_id,
        "kind": "thumbnail",
        "document_id": doc["id"],
        "state": "queued",
    }
    assert (await document(api, doc["id"]))["processing"]["thumbnail"]["state"] == "pending"
    [event] = await recorded_events(api.container, "job.retried")
    assert (event.actor_id, event.subject_id) == (api.admin.user_id, str(job_id))
    again = await api.client.post(f"{API}/jobs/{job_id}/retry", headers=api.admin.headers)
    assert_problem(again, 409)  # queued now, not failed

    await run_jobs(api.container, pg)
    done = await document(api, doc["id"])
    after = await jobs(api)

    assert done["processing"]["thumbnail"]["state"] == "done"
    assert done["processing"]["thumbnail"]["reason"] is None
    assert await listed(api, processing="thumbnail:done") == [doc["id"]]
    assert after["kinds"][0]["failed"] == 1 and after["kinds"][0]["done_recently"] == 1
    assert [f["document_id"] for f in after["failures"]] == [other["id"]]
    gone = await api.client.post(f"{API}/jobs/{job_id}/retry", headers=api.admin.headers)
    assert_problem(gone, 404)  # done: it left the queue


async def test_only_admins_see_and_retry_jobs(api: Api) -> None:
    for caller in (api.member, api.guest):
        assert_problem(await jobs(api, caller), 403)
        refused = await api.client.post(f"{API}/jobs/1/retry", headers=caller.headers)
        assert_problem(refused, 403)


@pytest.mark.parametrize("job_id", ["999999", str(2**63), "0"])
async def test_retrying_a_job_the_queue_does_not_hold_is_a_404(api: Api, job_id: str) -> None:
    response = await api.client.post(f"{API}/jobs/{job_id}/retry", headers=api.admin.headers)

    assert_problem(response, 404)


@pytest.mark.parametrize(
    "params",
    [
        {"processing": "bogus"},
        {"processing": "Thumbnail:failed"},
        {"processing": ":failed"},
        {"processing": "thumbnail:"},
        {"processing": "a:b:failed"},
        {"processing": "x" * 60 + ":failed"},
        {"needs_ocr": "maybe"},
    ],
)
async def test_a_bad_processing_filter_is_refused(api: Api, params: dict[str, str]) -> None:
    response = await api.client.get(f"{API}/documents", params=params, headers=api.member.headers)

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_needs_ocr_filters_on_the_ocr_kind(api: Api) -> None:
    scan = await uploaded(api, api.member, "scan.txt", b"one")
    plain = await uploaded(api, api.member, "plain.txt", b"two")
    async with api.container.uow_factory()() as uow:
        await uow.processing.mark(
            UUID(scan["id"]), "ocr", "failed", api.container.clock().now(), "no tesseract"
        )  # type: ignore[arg-type]
        await uow.commit()

    assert await listed(api, needs_ocr="true") == [scan["id"]]
    assert await listed(api, needs_ocr="false") == [plain["id"]]
    got = await document(api, scan["id"])
    assert got["needs_ocr"] is True
    assert got["processing"]["ocr"] == {
        "state": "failed",
        "reason": "no tesseract",
        "updated_at": got["processing"]["ocr"]["updated_at"],
    }


def samples(text: str, name: str) -> dict[tuple[str, str], float]:
    """The samples of metric `name` in a scrape, by (kind, second label)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                labels = sample.labels
                found[(labels["kind"], labels.get("state") or labels["outcome"])] = sample.value
    return found


async def test_metrics_show_the_queue_depth_and_the_job_outcomes(
    api: Api, pg: Database | None
) -> None:
    await uploaded(api, api.member, "a.txt", b"alpha")
    before = (await api.client.get("/metrics")).text
    await run_jobs(api.container, pg)
    cached = (await api.client.get("/metrics")).text
    api.app.state.metrics.job_queue.read_at = float("-inf")  # as if the 5 s had passed
    after = (await api.client.get("/metrics")).text

    depth = "archivist_job_queue_depth"
    thumbnails = {k: v for k, v in samples(before, depth).items() if k[0] == "thumbnail"}
    assert thumbnails == {
        ("thumbnail", "queued"): 1.0,
        ("thumbnail", "running"): 0.0,
        ("thumbnail", "failed"): 0.0,
    }
    assert samples(cached, depth) == samples(before, depth)  # read at most every 5 s
    assert samples(after, depth)[("thumbnail", "queued")] == 0.0
    outcomes = "archivist_job_outcomes_total"
    done = ("thumbnail", "done")
    assert samples(after, outcomes)[done] == samples(before, outcomes).get(done, 0.0) + 1
