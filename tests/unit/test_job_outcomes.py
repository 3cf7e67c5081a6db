"""`JobHandlers.report`: what both workers call after a run. Listeners hear every outcome,
the failure hook only a failure for good, and neither can break the worker."""

from __future__ import annotations

import pytest

from application.jobs import JobHandlers, JobOutcome
from domain.errors import ValidationFailed
from domain.jobs import JsonObject
from domain.processing import ProcessingFilter, ProcessingState


async def test_listeners_hear_every_outcome_and_the_hook_only_failures_for_good() -> None:
    heard: list[tuple[str, JobOutcome]] = []
    failed: list[tuple[str, JsonObject, str]] = []

    async def hook(kind: str, payload: JsonObject, error: str) -> None:
        failed.append((kind, payload, error))

    handlers = JobHandlers()
    handlers.listen(lambda kind, outcome: heard.append((kind, outcome)))
    handlers.on_failed_for_good(hook)
    for outcome in JobOutcome:
        await handlers.report("ocr", outcome, {"document_id": "d"}, "OSError: x")

    assert heard == [("ocr", o) for o in JobOutcome]
    assert failed == [("ocr", {"document_id": "d"}, "OSError: x")]


async def test_a_failing_listener_or_hook_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def listener(kind: str, outcome: JobOutcome) -> None:
        raise RuntimeError("listener broke")

    async def hook(kind: str, payload: JsonObject, error: str) -> None:
        raise RuntimeError("hook broke")

    handlers = JobHandlers()
    handlers.listen(listener)
    handlers.on_failed_for_good(hook)
    await handlers.report("thumbnail", JobOutcome.FAILED, {}, "E")

    assert "listener failed" in caplog.text and "hook broke" in caplog.text


@pytest.mark.parametrize(
    ("raw", "state", "kind"),
    [
        ("failed", ProcessingState.FAILED, None),
        ("thumbnail:failed", ProcessingState.FAILED, "thumbnail"),
        ("ocr:not_applicable", ProcessingState.NOT_APPLICABLE, "ocr"),
    ],
)
def test_a_processing_filter_is_a_state_or_a_kind_and_a_state(
    raw: str, state: ProcessingState, kind: str | None
) -> None:
    assert ProcessingFilter.parse(raw) == ProcessingFilter(state, kind)


@pytest.mark.parametrize("raw", ["", "bogus", ":failed", "x:", "X:failed", "a:b:failed", " failed"])
def test_a_bad_processing_filter_is_a_validation_error(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="processing"):
        ProcessingFilter.parse(raw)
