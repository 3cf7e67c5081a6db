"""Archivist's app for `bench_me.py`, built exactly as `archivist serve` builds it.

`archivist serve` also migrates and bootstraps an admin before serving; the benchmark runner
does both itself, so this factory only does what `serve` hands to uvicorn:
`create_app(build_container(settings, url), freeze_heap=True)`, with settings from the
environment.

Run: `DATABASE_URL=postgresql://... uvicorn --factory archivist_me_app:create_app` from `bench/`.
"""

from __future__ import annotations

from litestar import Litestar

from infrastructure.config import AppSettings
from infrastructure.container import build_container
from infrastructure.sqlalchemy.embedded import resolve_database_url
from interfaces.http.app import create_app as create_archivist_app


def create_app() -> Litestar:
    settings = AppSettings()
    if not settings.database_url:
        raise RuntimeError("set DATABASE_URL: the benchmark never starts a server from here")
    url = resolve_database_url(
        settings.database_url, settings.data_dir, settings.embedded_shared_buffers
    )
    return create_archivist_app(build_container(settings, url), freeze_heap=True)
