"""Configuration from the environment and `.env` (documented in `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
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
    storage: Literal["postgres", "memory"] = "postgres"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # 0: under load an overflow connection is closed when it is checked in while the pool is
    # full, so overflow turns a busy pool into a new PostgreSQL session per request or so
    # (docs/benchmarks.md, issue #2). Raise db_pool_size instead.
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    # A pooled connection the server closed (a restart) is always replaced at checkout, at no
    # cost; pre-ping also catches peers that vanished silently (a failover), for a round trip
    # per checkout (docs/decisions.md, "Faults").
    db_pool_pre_ping: bool = False
    sql_echo: bool = False
    slow_query_ms: int = Field(default=100, ge=0)
    initial_admin_email: str = "admin@archivist.localhost"
    # Text extraction runs in child processes, each file under these limits; a file over one
    # is a 422 `extraction_limit` (docs/decisions.md, "Documents"). Workers 0: min(2, CPUs).
    extraction_workers: int = Field(default=0, ge=0, le=64)
    extraction_cpu_seconds: float = Field(default=20.0, gt=0, le=3600)
    extraction_memory_mb: int = Field(default=512, ge=32, le=65536)
    extraction_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    extraction_max_pdf_pages: int = Field(default=2000, ge=1, le=1_000_000)
    # Failed-authentication throttling, per client address and server process
    # (docs/decisions.md, "Throttling"). 0 turns it off.
    auth_failures_per_minute: int = Field(default=20, ge=0, le=1_000_000)
    auth_throttle_max_addresses: int = Field(default=10_000, ge=1, le=10_000_000)
    # Request size before anything else runs: a header block over max_header_bytes is a 431,
    # a URL (path and query) over max_url_bytes a 414 (docs/decisions.md, "Input bounds").
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_url_bytes: int = Field(default=8 * 1024, ge=256, le=1024 * 1024)
    # Background jobs (docs/decisions.md, "Background jobs"): `archivist serve` runs a worker
    # in each server process unless turned off here (then run `archivist worker`); jobs each
    # worker runs at once (`archivist worker --concurrency N` overrides it).
    workers_in_process: bool = True
    worker_concurrency: int = Field(default=2, ge=1, le=64)

    @property
    def blobs_path(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / "admin-token"
