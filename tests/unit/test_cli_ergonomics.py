"""`archivist` run in-process (`main([...])`), with no database: the version, the data
directory a command works in, refusing to create a database where none is, the proxy options
handed to uvicorn, and bad settings reported in one line each (issue #13, item 5)."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.config import AppSettings, describe_invalid_settings
from infrastructure.sqlalchemy import embedded
from infrastructure.sqlalchemy.engine import create_engine
from interfaces.cli import common, serving
from interfaces.cli.main import build_parser, main, resolve_command


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and an environment without any of Archivist's settings:
    the data directory is the default, relative `./.data`."""
    for name in [n for n in os.environ if n.startswith("ARCHIVIST_") or n == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_version_prints_the_installed_packages_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"archivist {version('archivist')}\n"


def test_the_data_directory_setting_is_made_absolute(workdir: Path) -> None:
    settings = AppSettings(data_dir=Path("here/../data"), blob_dir=Path("files"))

    assert settings.data_dir == workdir.resolve() / "data"
    assert settings.blobs_path == workdir.resolve() / "files"
    assert AppSettings().admin_token_path == workdir.resolve() / ".data" / "admin-token"


NEEDS_A_DATABASE = [
    pytest.param(["migrate", "current"], id="migrate-current"),
    pytest.param(["migrate", "check"], id="migrate-check"),
    pytest.param(["migrate", "downgrade", "-1"], id="migrate-downgrade"),
    pytest.param(["admin", "create", "--email", "a@example.com", "--name", "A"], id="admin"),
    pytest.param(["seed-demo"], id="seed-demo"),
    pytest.param(["purge", "--dry-run"], id="purge"),
    pytest.param(["import", "inbox"], id="import"),
    pytest.param(["worker"], id="worker"),
]


@pytest.mark.parametrize("argv", NEEDS_A_DATABASE)
def test_a_command_on_a_data_directory_without_a_database_says_so_and_creates_nothing(
    workdir: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "inbox").mkdir()
    (workdir / "inbox" / "a.txt").write_text("a")

    status = main(argv)

    err = capsys.readouterr().err
    assert status == 1
    assert f"no database in the data directory {workdir.resolve() / '.data'} " in err
    assert "archivist migrate upgrade" in err
    assert "Traceback" not in err
    assert not (workdir / ".data").exists()


def test_migrate_history_needs_no_database(workdir: Path) -> None:
    status = main(["migrate", "history"])  # alembic prints to the stdout it was imported with

    assert status == 0
    assert not (workdir / ".data").exists()


class _Started(Exception):
    """Raised by a stand-in for the embedded server's start."""


class _Recorded:
    """`serving.Effects` that record what a command asks for: the embedded server it would
    start (and stop there, raising `_Started`), the uvicorn run it would make."""

    def __init__(self) -> None:
        self.started: list[Path] = []
        self.app: serving.AppSource | None = None
        self.options: dict[str, Any] = {}

    def start_database(self, pgdata: Path, **kwargs: Any) -> str:
        self.started.append(pgdata)
        raise _Started

    def run_server(self, app: serving.AppSource, options: dict[str, Any]) -> None:
        self.app, self.options = app, options

    def effects(self) -> serving.Effects:
        return serving.Effects(start_database=self.start_database, run_server=self.run_server)


def _command(argv: list[str], recorded: _Recorded) -> int:
    """The command `main(argv)` runs, run with `recorded`'s effects."""
    args = build_parser().parse_args(argv)
    command: Callable[..., int] = resolve_command(args.func)
    return command(args, recorded.effects())


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of the commands that run something (`admin` only groups its own)."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        return [parser]
    return [leaf for g in groups for sub in g.choices.values() for leaf in _leaf_parsers(sub)]


def test_every_command_names_a_function_that_exists() -> None:
    refs = [p.get_default("func") for p in _leaf_parsers(build_parser())]

    assert all(isinstance(ref, str) and ":" in ref for ref in refs), refs
    assert all(callable(resolve_command(ref)) for ref in refs)


def test_the_commands_start_the_embedded_server_and_uvicorn_for_real() -> None:
    effects = serving.Effects()

    assert effects.start_database is embedded.start_embedded
    assert effects.run_server is serving._run_uvicorn


@pytest.mark.parametrize(
    "argv",
    [pytest.param(["migrate", "upgrade"], id="migrate"), pytest.param(["serve"], id="serve")],
)
def test_serve_and_migrate_upgrade_create_the_database_where_none_is(
    workdir: Path, argv: list[str]
) -> None:
    recorded = _Recorded()

    with pytest.raises(_Started):
        _command(argv, recorded)

    assert recorded.started == [workdir.resolve() / ".data" / "pgdata"]


def test_database_url_set_skips_the_data_directory_check(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.invalid/x")

    url = common.database_url_of(AppSettings())

    assert url == "postgresql://u@db.invalid/x"


def _serve(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[int, _Recorded]:
    """`archivist serve ARGV` on memory storage up to running uvicorn, which is recorded."""
    monkeypatch.setenv("ARCHIVIST_STORAGE", "memory")
    recorded = _Recorded()
    return _command(["serve", *argv], recorded), recorded


def test_serve_trusts_no_proxy_headers_unless_asked(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, recorded = _serve(monkeypatch, [])

    assert status == 0
    assert callable(recorded.app)  # one process: the app built here
    assert recorded.options["proxy_headers"] is False
    assert recorded.options["forwarded_allow_ips"] is None  # uvicorn's own default then


def test_serve_passes_the_proxy_options_to_uvicorn(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, recorded = _serve(
        monkeypatch,
        ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.5, 10.1.0.0/16", "--workers", "1"],
    )

    assert status == 0
    ran = recorded.options
    assert (ran["proxy_headers"], ran["forwarded_allow_ips"], ran["workers"]) == (
        True,
        "10.0.0.5,10.1.0.0/16",
        1,
    )


def test_serve_logs_its_data_directory_as_an_absolute_path(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ARCHIVIST_DATA_DIR", "var/archive")
    caplog.set_level(logging.INFO, logger="archivist")

    _serve(monkeypatch, [])

    # An earlier `main` may have set up logging to stderr, taking the lines from caplog.
    logged = caplog.text + capsys.readouterr().err
    assert f"data directory {workdir.resolve() / 'var' / 'archive'} " in logged


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--forwarded-allow-ips", "10.0.0.5"], "--forwarded-allow-ips needs --proxy-headers"),
        (["--proxy-headers", "--forwarded-allow-ips", "proxy.lan"], "'proxy.lan' is not an IP"),
    ],
)
def test_serve_refuses_bad_proxy_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", *argv])

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ARCHIVIST_DB_POOL_SIZE", "0"),
        ("ARCHIVIST_DB_MAX_OVERFLOW", "-1"),
        ("ARCHIVIST_DB_POOL_TIMEOUT", "soon"),
        ("ARCHIVIST_DB_POOL_PRE_PING", "maybe"),
        ("ARCHIVIST_DB_POOL_RECYCLE", "-5"),
    ],
)
def test_a_bad_pool_setting_is_one_clear_line_not_a_traceback(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)

    status = main(["purge"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"archivist: invalid setting {variable}={value}: ")
    assert len(err.splitlines()) == 1


def test_a_bad_database_url_is_reported_without_its_value() -> None:
    with pytest.raises(ValidationError) as err:
        AppSettings(database_url=["postgresql://u:hunter2@h/db"], db_pool_size=0)

    described = describe_invalid_settings(err.value)

    assert (
        described.splitlines()[0] == "invalid setting DATABASE_URL: Input should be a valid string"
    )
    assert "ARCHIVIST_DB_POOL_SIZE=0" in described
    assert "hunter2" not in described


def _pool(settings: AppSettings) -> Any:
    engine: AsyncEngine = create_engine("postgresql://u@db.invalid/x", settings)
    return engine.sync_engine.pool


def test_the_pool_takes_its_settings() -> None:
    pool = _pool(
        AppSettings(
            db_pool_size=7,
            db_max_overflow=3,
            db_pool_timeout=4.5,
            db_pool_pre_ping=True,
            db_pool_recycle=900,
        )
    )

    assert (pool.size(), pool._max_overflow, pool._timeout, pool._pre_ping, pool._recycle) == (
        7,
        3,
        4.5,
        True,
        900,
    )


def test_pool_recycle_defaults_to_an_hour_and_zero_turns_it_off() -> None:
    assert _pool(AppSettings())._recycle == 3600
    assert _pool(AppSettings(db_pool_recycle=0))._recycle == -1
