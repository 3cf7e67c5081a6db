"""The job handler registry and the retry rule both workers apply (`application.jobs`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.jobs import (
    DEFAULT_RETRY_POLICY,
    JobHandlers,
    RetryPolicy,
    describe_error,
    retry_delay,
)
from domain.errors import DomainError, NotFound, ValidationFailed
from domain.jobs import JsonObject


async def _noop(payload: JsonObject) -> None:
    return None


def test_a_registered_kind_has_its_handler_and_the_default_policy() -> None:
    handlers = JobHandlers()
    handlers.register("thumbnail", _noop)

    kind = handlers.get("thumbnail")
    assert kind is not None
    assert (kind.name, kind.handler, kind.policy) == ("thumbnail", _noop, DEFAULT_RETRY_POLICY)
    assert "thumbnail" in handlers and "ocr" not in handlers
    assert handlers.get("ocr") is None
    assert [k.name for k in handlers] == ["thumbnail"]


def test_the_default_policy_is_five_runs_from_two_seconds_doubling_to_ten_minutes() -> None:
    policy = DEFAULT_RETRY_POLICY
    assert policy.max_attempts == 5
    assert [policy.delay_before_retry(n).total_seconds() for n in range(1, 11)] == [
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        512,
        600,
    ]
    assert policy.delay_before_retry(10_000) == timedelta(minutes=10)


def test_a_kind_keeps_its_own_policy() -> None:
    handlers = JobHandlers()
    policy = RetryPolicy(max_attempts=2, initial_delay=timedelta(0), max_delay=timedelta(0))
    handlers.register("ocr", _noop, policy)

    kind = handlers.get("ocr")
    assert kind is not None and kind.policy == policy


def test_a_kind_registered_twice_is_refused() -> None:
    handlers = JobHandlers()
    handlers.register("ocr", _noop)

    with pytest.raises(ValueError, match="'ocr' has a handler already"):
        handlers.register("ocr", _noop)


@pytest.mark.parametrize("kind", ["", "a\x00b"])
def test_a_kind_pgqueuer_could_not_store_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        JobHandlers().register(kind, _noop)


@pytest.mark.parametrize(
    ("max_attempts", "initial", "maximum"),
    [
        pytest.param(0, 1, 2, id="no-attempt"),
        pytest.param(3, -1, 2, id="negative-delay"),
        pytest.param(3, 5, 2, id="initial-above-max"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(
    max_attempts: int, initial: int, maximum: int
) -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(max_attempts, timedelta(seconds=initial), timedelta(seconds=maximum))


def test_an_ordinary_error_is_retried_with_backoff_until_the_attempts_are_spent() -> None:
    policy = RetryPolicy(max_attempts=3, initial_delay=timedelta(seconds=1))
    error = OSError("disk busy")

    assert retry_delay(policy, 1, error) == timedelta(seconds=1)
    assert retry_delay(policy, 2, error) == timedelta(seconds=2)
    assert retry_delay(policy, 3, error) is None


@pytest.mark.parametrize(
    "error",
    [DomainError("no"), NotFound("document", "d1"), ValidationFailed.on("pages", "too many")],
)
def test_a_domain_error_fails_the_job_at_once(error: DomainError) -> None:
    assert retry_delay(DEFAULT_RETRY_POLICY, 1, error) is None


def test_a_job_of_one_attempt_is_never_retried() -> None:
    assert retry_delay(RetryPolicy(max_attempts=1), 1, RuntimeError("x")) is None


def test_an_error_is_described_by_its_type_and_message() -> None:
    assert describe_error(OSError("disk busy")) == "OSError: disk busy"
    assert describe_error(RuntimeError()) == "RuntimeError"
