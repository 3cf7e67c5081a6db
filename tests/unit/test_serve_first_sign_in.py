"""`archivist serve`'s first start prints a one-time link that sets the first admin's password,
so a person can sign in from a browser (issue #14 item 1); on memory storage the server keeps
the admin it made (the container that made it is the one it serves)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar

from application.context import RequestContext
from infrastructure.config import AppSettings
from infrastructure.container import build_container
from interfaces.cli import serving
from interfaces.cli.main import build_parser


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("ARCHIVIST_") or n == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCHIVIST_STORAGE", "memory")
    monkeypatch.setenv("ARCHIVIST_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("ARCHIVIST_PASSWORD_HASH_MEMORY_KIB", "8")
    monkeypatch.setenv("ARCHIVIST_PASSWORD_HASH_PARALLELISM", "1")
    return tmp_path


def _serve(argv: list[str]) -> Litestar:
    """`archivist serve ARGV` up to running uvicorn; the app it would serve."""
    served: list[Any] = []

    def run_server(app: serving.AppSource, options: dict[str, Any]) -> None:
        assert callable(app)
        served.append(app())

    args = build_parser().parse_args(["serve", *argv])
    assert serving.cmd_serve(args, serving.Effects(run_server=run_server)) == 0
    app: Litestar = served[0]
    return app


def _link(err: str) -> str:
    lines = err.splitlines()
    at = lines.index(
        "To sign in from a browser, open this one-time link within 24 hour(s) and choose the "
        "administrator's password:"
    )
    return lines[at + 1].strip()


def test_the_first_start_prints_a_link_that_sets_the_admins_password(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _serve(["--port", "8123"])

    err = capsys.readouterr().err
    link = _link(err)
    url = urlsplit(link)
    assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1:8123", "/set-password")
    token = parse_qs(url.query)["token"][0]
    admin_token = (workdir / ".data" / "admin-token").read_text().strip()
    assert admin_token not in err

    async def use_the_link() -> str:
        container = app.state.container  # the one that made the admin
        user = await container.passwords().password_link_user(token)
        await container.passwords().set_password_with_link(token, "a long and unusual phrase")
        signed = await container.accounts().sign_in(
            user.email, "a long and unusual phrase", RequestContext.system()
        )
        return str(signed.user.email)

    assert asyncio.run(use_the_link()) == "admin@archivist.localhost"


def test_the_link_is_on_the_public_url_when_one_is_set(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARCHIVIST_PUBLIC_URL", "https://archive.example.com/")

    _serve(["--host", "0.0.0.0"])  # noqa: S104

    assert _link(capsys.readouterr().err).startswith(
        "https://archive.example.com/set-password?token=arvp_"
    )


def test_a_start_on_a_database_with_users_prints_no_link(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def bootstrap_twice() -> tuple[object, object]:
        settings = AppSettings()
        container = build_container(settings)
        first = await serving._bootstrap_admin(container, settings)
        again = await serving._bootstrap_admin(container, settings)
        return first, again

    first, again = asyncio.run(bootstrap_twice())

    assert first is not None
    assert again is None
