"""Log lines of every process (`serve` and its uvicorn, `worker`, the other commands), set up
in one place: `log_config` is the `logging.config.dictConfig` dictionary, `configure_logging`
applies it, and `archivist serve` hands the same dictionary to uvicorn (`log_config=`), which
applies it again in each of its worker processes.

Every line has the time (ISO 8601, UTC, milliseconds), the level and the logger's name, and the
request id when it was logged while a request was handled (`REQUEST_ID`, set by
`interfaces.http.request_log`). Two renderings (`ARCHIVIST_LOG_FORMAT`):

- `text`: `2026-03-01T10:15:02.123+00:00 INFO archivist.access [3f2a6b1c9d0e4f57] GET ...`,
  a traceback on the lines after;
- `json`: one object per line: `time`, `level`, `logger`, `message`, `request_id` when known,
  `exc_info` (the traceback) when there is one, and the record's extra fields (the access
  log's `method`, `path`, `status`, `duration_ms`, `client`; the slow-query log's).
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TextIO

# The id of the request being handled in this context (None outside a request).
REQUEST_ID: Final[ContextVar[str | None]] = ContextVar("archivist_request_id", default=None)

ACCESS_LOGGER: Final = "archivist.access"

# What every LogRecord has; anything else on a record is an extra field, kept in JSON lines.
_RECORD_FIELDS: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)


def _iso_time(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class RequestIdFilter(logging.Filter):
    """Gives each record the request id of the context it was logged in (on the handler, so
    every logger's records get it: the app's, uvicorn's, SQLAlchemy's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class LineFormatter(logging.Formatter):
    """One line per record, as text or as a JSON object (see the module's docstring)."""

    def __init__(self, json_lines: bool = False) -> None:
        super().__init__()
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        request_id = getattr(record, "request_id", None)
        trace = None
        if record.exc_info:
            trace = self.formatException(record.exc_info)
        elif record.exc_text:
            trace = record.exc_text
        if record.stack_info:
            stack = self.formatStack(record.stack_info)
            trace = f"{trace}\n{stack}" if trace else stack
        time = _iso_time(record.created)
        if self.json_lines:
            line: dict[str, Any] = {
                "time": time,
                "level": record.levelname,
                "logger": record.name,
                "message": message,
            }
            if request_id is not None:
                line["request_id"] = request_id
            if trace is not None:
                line["exc_info"] = trace
            for key, value in record.__dict__.items():
                if key not in _RECORD_FIELDS and key not in line:
                    line[key] = value
            return json.dumps(line, ensure_ascii=False, default=str)
        rid = f" [{request_id}]" if request_id is not None else ""
        text = f"{time} {record.levelname} {record.name}{rid} {message}"
        return f"{text}\n{trace}" if trace is not None else text


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a record is emitted (as `logging.lastResort`
    does), never to a stream replaced since: pytest's capture, for one."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr


def log_config(
    log_format: str = "text",
    level: str = "INFO",
    *,
    access_log: bool = True,
) -> dict[str, Any]:
    """The `dictConfig` dictionary: one handler (stderr, one formatter, the request id filter)
    on the root logger, every other logger propagating to it. uvicorn's access log is off
    (`archivist.access` is the access log, `interfaces.http.request_log`); `access_log=False`
    (`serve --no-access-log`) quiets that one too. Plain data: uvicorn pickles it for its
    worker processes."""
    loggers: dict[str, Any] = {
        # uvicorn's own loggers come with handlers of their own: they use the root's instead.
        "uvicorn": {"level": level, "handlers": [], "propagate": True},
        "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
        "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        ACCESS_LOGGER: {"level": level if access_log else "WARNING"},
        "pgserver": {"level": "WARNING"},  # its INFO is a page per start
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {
            "line": {"()": f"{__name__}.LineFormatter", "json_lines": log_format == "json"}
        },
        "handlers": {
            "stderr": {
                "class": f"{__name__}.StderrHandler",
                "formatter": "line",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": loggers,
    }


def configure_logging(
    log_format: str = "text", level: str = "INFO", *, access_log: bool = True
) -> dict[str, Any]:
    """Apply `log_config(...)` to this process; returns it (for uvicorn)."""
    config = log_config(log_format, level, access_log=access_log)
    logging.config.dictConfig(config)
    return config
