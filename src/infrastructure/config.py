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
    sql_echo: bool = False
    slow_query_ms: int = Field(default=100, ge=0)
    initial_admin_email: str = "admin@archivist.localhost"

    @property
    def blobs_path(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / "admin-token"
