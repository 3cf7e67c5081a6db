"""The one logging setup (`interfaces.logging_setup`): the dictConfig every command applies and
uvicorn is given, its two formats, the settings that choose them; statement names for the
slow-query log."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import uvicorn
from pydantic import ValidationError

from infrastructure.config import AppSettings
from infrastructure.sqlalchemy.engine import statement_name
from interfaces.logging_setup import REQUEST_ID, configure_logging, log_config

ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"
TOUCHED = ["", "uvicorn", "uvicorn.error", "uvicorn.access", "archivist.access", "pgserver"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put back what applying a dictConfig changes on the loggers it names."""
    saved = []
    for name in TOUCHED:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.level, logger.propagate))
    try:
        yield
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


async def _app(scope: object, receive: object, send: object) -> None:
    """An ASGI app for uvicorn's Config (never called)."""


@pytest.mark.usefixtures("restored_logging")
def test_uvicorn_given_the_config_writes_the_same_json_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = log_config("json", "DEBUG")
    uvicorn.Config(_app, log_config=config, access_log=False, log_level="debug")
    capsys.readouterr()

    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("uvicorn.access").info("uvicorn's own access line")  # replaced: silent
    token = REQUEST_ID.set("req-1")
    try:
        logging.getLogger("archivist.jobs").debug("job %s done", 7)
    finally:
        REQUEST_ID.reset(token)

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(o["logger"], o["level"], o["message"]) for o in lines] == [
        ("uvicorn.error", "INFO", "Started server process [42]"),
        ("archivist.jobs", "DEBUG", "job 7 done"),
    ]
    assert "request_id" not in lines[0] and lines[1]["request_id"] == "req-1"
    for o in lines:
        assert datetime.fromisoformat(o["time"]).utcoffset() == timedelta(0)


@pytest.mark.usefixtures("restored_logging")
def test_text_lines_with_a_traceback_and_the_level_and_access_switches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("text", "WARNING", access_log=False)
    capsys.readouterr()

    logging.getLogger("archivist").info("not at WARNING")
    logging.getLogger("archivist.access").warning("quiet unless WARNING")
    logging.getLogger("archivist.access").info("GET / 200")  # --no-access-log
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("archivist.http").exception("unhandled error on %s", "GET /x")

    err = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"{ISO_TIME} WARNING archivist\.access quiet unless WARNING", err[0])
    assert re.fullmatch(rf"{ISO_TIME} ERROR archivist\.http unhandled error on GET /x", err[1])
    assert err[2] == "Traceback (most recent call last):"
    assert err[-1] == "ValueError: bad value"
    assert not any("not at WARNING" in line or "GET / 200" in line for line in err)


def test_the_settings_choose_format_and_level_in_any_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ARCHIVIST_LOG_FORMAT", raising=False)
    monkeypatch.delenv("ARCHIVIST_LOG_LEVEL", raising=False)
    assert (AppSettings().log_format, AppSettings().log_level) == ("text", "INFO")
    monkeypatch.setenv("ARCHIVIST_LOG_FORMAT", "JSON")
    monkeypatch.setenv("ARCHIVIST_LOG_LEVEL", "debug")
    assert (AppSettings().log_format, AppSettings().log_level) == ("json", "DEBUG")
    monkeypatch.setenv("ARCHIVIST_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        AppSettings()
    monkeypatch.setenv("ARCHIVIST_LOG_FORMAT", "text")
    monkeypatch.setenv("ARCHIVIST_LOG_LEVEL", "loud")
    with pytest.raises(ValidationError):
        AppSettings()


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT documents.id, documents.title FROM documents WHERE id = $1", "SELECT documents"),
        ("INSERT INTO events (action) VALUES ($1)", "INSERT events"),
        ("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", "UPDATE api_tokens"),
        ("DELETE FROM jobs.pgqueuer WHERE id = $1", "DELETE jobs.pgqueuer"),
        (
            "WITH g AS (SELECT 1 FROM permissions), e AS (INSERT INTO events ...) SELECT",
            "WITH INSERT events",
        ),
        (
            "WITH q AS (SELECT id FROM jobs.q FOR UPDATE SKIP LOCKED) UPDATE jobs.q SET",
            "WITH UPDATE jobs.q",
        ),
        ("WITH x AS (SELECT id FROM documents) SELECT * FROM x", "WITH SELECT documents"),
        (
            "INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = $1",
            "INSERT tags",
        ),
        ("SELECT pg_sleep($1::FLOAT)", "SELECT pg_sleep"),
        ("SELECT 1", "SELECT"),
        ("BEGIN", "BEGIN"),
    ],
)
def test_statement_names(sql: str, name: str) -> None:
    assert statement_name(sql) == name
