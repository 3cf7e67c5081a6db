"""Configuration from the environment and `.env` (documented in `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ARCHIVIST_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "ARCHIVIST_DATABASE_URL"),
        description="PostgreSQL URL; unset starts the embedded server in data_dir.",
    )
    data_dir: Path = Path(".data")
    embedded_shared_buffers: str = Field(
        default="auto",
        pattern=r"^(auto|\d{1,7}(kB|MB|GB))$",
        description="Embedded server shared_buffers: auto (RAM/8, 128MB-1GB) or a size.",
    )
    blob_dir: Path | None = None
    # PostgreSQL client tools for `archivist backup`/`restore` (pg_dump, pg_restore). Unset:
    # the newest of those on PATH and the embedded server's own (PostgreSQL 16).
    pg_bin_dir: Path | None = None
    storage: Literal["postgres", "memory"] = "postgres"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # 0: under load an overflow connection is closed when it is checked in while the pool is
    # full, so overflow turns a busy pool into a new PostgreSQL session per request or so
    # (docs/benchmarks.md, issue #2). Raise db_pool_size instead.
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=300)
    # A pooled connection the server closed (a restart) is always replaced at checkout, at no
    # cost; pre-ping also catches peers that vanished silently (a failover), for a round trip
    # per checkout (docs/decisions.md, "Faults").
    db_pool_pre_ping: bool = False
    # A pooled connection older than this many seconds is closed and replaced at its next
    # checkout (0: never), so no session outlives an idle timeout of a proxy or firewall on
    # the way and none keeps what it cached forever. Once an hour costs one connect per
    # pooled connection per hour.
    db_pool_recycle: int = Field(default=3600, ge=0, le=7 * 24 * 3600)
    sql_echo: bool = False
    slow_query_ms: int = Field(default=100, ge=0)
    # Each server process adds its statement statistics to `statement_stats` this often
    # (seconds; 0 = never), for `archivist db-report` (docs/decisions.md, "Database report").
    statement_stats_flush_seconds: float = Field(default=60.0, ge=0, le=24 * 3600)
    # Every process's log lines (interfaces/logging_setup.py, docs/decisions.md, "Logs").
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    initial_admin_email: str = "admin@archivist.localhost"
    # Text extraction runs in child processes, each file under these limits; a file over one
    # is a 422 `extraction_limit` (docs/decisions.md, "Documents"). Workers 0: min(2, CPUs).
    extraction_workers: int = Field(default=0, ge=0, le=64)
    extraction_cpu_seconds: float = Field(default=20.0, gt=0, le=3600)
    extraction_memory_mb: int = Field(default=512, ge=32, le=65536)
    extraction_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    extraction_max_pdf_pages: int = Field(default=2000, ge=1, le=1_000_000)
    # OCR of scanned PDF pages (docs/decisions.md, "OCR"): Tesseract's languages, joined by +.
    ocr_languages: str = Field(
        default="eng+kor", pattern=r"^[A-Za-z0-9_/]{1,64}(\+[A-Za-z0-9_/]{1,64}){0,15}$"
    )
    # Failed-authentication throttling, per client address and server process
    # (docs/decisions.md, "Throttling"). 0 turns it off.
    auth_failures_per_minute: int = Field(default=20, ge=0, le=1_000_000)
    auth_throttle_max_addresses: int = Field(default=10_000, ge=1, le=10_000_000)
    # Signing in to the web interface (docs/decisions.md, "Accounts: passwords and sessions").
    # A session ends after session_idle_minutes unused, or session_absolute_hours after
    # sign-in at the latest; a set-password link works for password_link_hours, once.
    session_idle_minutes: int = Field(default=120, ge=1, le=30 * 24 * 60)
    session_absolute_hours: int = Field(default=24 * 7, ge=1, le=366 * 24)
    password_link_hours: int = Field(default=24, ge=1, le=30 * 24)
    # argon2id's cost of a password hash: passes, memory (KiB) and lanes. The defaults are
    # RFC 9106's second option; below OWASP's floor (2 passes over 19 MiB) only for tests.
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=8, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=64)
    # Where people reach the service (e.g. https://archive.example.com): set-password links
    # printed by the CLI are made absolute with it. Unset: the CLI prints the path.
    public_url: str | None = Field(default=None, max_length=500)
    # Request size before anything else runs: a header block over max_header_bytes is a 431,
    # a URL (path and query) over max_url_bytes a 414 (docs/decisions.md, "Input bounds").
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_url_bytes: int = Field(default=8 * 1024, ge=256, le=1024 * 1024)
    # Background jobs (docs/decisions.md, "Background jobs"): `archivist serve` runs a worker
    # in each server process unless turned off here (then run `archivist worker`); jobs each
    # worker runs at once (`archivist worker --concurrency N` overrides it).
    workers_in_process: bool = True
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    # When the workers queue a purge (`archivist purge` as a background job): a cron
    # expression in UTC (5 fields, or 6 with seconds last); empty: never, purge by hand.
    purge_schedule: str = "17 3 * * *"
    # The consume folder (docs/decisions.md, "Consume folder"): unset, nothing is watched.
    # The workers import what is dropped there as consume_user (an e-mail; required), with
    # tags or a category from its sub-folders' names if asked, once its size and mtime have
    # not changed for consume_settle_seconds.
    consume_dir: Path | None = None
    consume_user: str | None = None
    consume_subdirs_as: Literal["tags", "category", "none"] = "none"
    consume_settle_seconds: float = Field(default=1.0, ge=0, le=3600)

    @field_validator("purge_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        value = " ".join(value.split())
        if value and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (e.g. '17 3 * * *')")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        """An http(s) URL of a host, with a path prefix or none; blank is unset."""
        if value is None or not value.strip():
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError("must be an http(s) URL like https://archive.example.com")
        return value.strip().rstrip("/")

    @field_validator("password_hash_parallelism")
    @classmethod
    def _argon2_lanes(cls, lanes: int, info: ValidationInfo) -> int:
        memory = info.data.get("password_hash_memory_kib")
        if memory is not None and memory < 8 * lanes:  # argon2: 8 KiB per lane at least
            raise ValueError("needs ARCHIVIST_PASSWORD_HASH_MEMORY_KIB of 8 KiB per lane")
        return lanes

    @field_validator("data_dir", "blob_dir")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        """Resolved once, at load: every message and log line names the directory in use,
        whatever the working directory (a relative `./.data` depends on it)."""
        return None if path is None else path.expanduser().resolve()

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        """`json` or `JSON`, `info` or `INFO`."""
        if not isinstance(value, str):
            return value
        return value.lower() if info.field_name == "log_format" else value.upper()

    @property
    def blobs_path(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / "admin-token"


def env_name(field: str) -> str:
    """The environment variable a setting is read from (`field` as pydantic reports it: the
    field's name, or the alias it was read by)."""
    name = field.upper()
    return name if name.startswith(("ARCHIVIST_", "DATABASE_URL")) else f"ARCHIVIST_{name}"


def describe_invalid_settings(err: ValidationError) -> str:
    """`AppSettings`' validation error as one line per bad variable, naming the variable, its
    value (never the database URL's: it may hold a password) and the rule it breaks."""
    lines = []
    for error in err.errors(include_url=False):
        name = env_name(str(error["loc"][0]) if error["loc"] else "?")
        shown = "" if name.endswith("DATABASE_URL") else f"={error.get('input')!s}"
        lines.append(f"invalid setting {name}{shown}: {error['msg']}")
    return "\n".join(lines)
