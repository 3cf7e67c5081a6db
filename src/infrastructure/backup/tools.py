"""The PostgreSQL client tools: finding pg_dump and pg_restore, refusing one too old for the
server or the archive, the libpq environment they connect with, and running them."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL

from infrastructure.backup.errors import BackupError
from infrastructure.sqlalchemy.engine import async_url

_VERSION: Final = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
# The connection-target variables of libpq, replaced by the URL's (others, such as PGPASSFILE
# or PGSSLROOTCERT, are the operator's to set and pass through).
_LIBPQ_TARGET: Final = (
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "PGSSLMODE",
)


@dataclass(frozen=True, slots=True)
class PgTool:
    path: Path
    version: str  # "16.2"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def bundled_bin_dir() -> Path | None:
    """The bin directory of the PostgreSQL 16 that the pgserver package ships (found without
    importing pgserver, which starts nothing but warns about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    found = Path(spec.origin).parent / "pginstall" / "bin"
    return found if found.is_dir() else None


def tool_candidates(name: str, bin_dir: Path | None) -> list[Path]:
    """`bin_dir/name` when a bin directory is configured; otherwise the one on PATH and the
    embedded server's own, whichever exist."""
    if bin_dir is not None:
        return [bin_dir / name]
    found = [Path(p) for p in [shutil.which(name)] if p is not None]
    bundled = bundled_bin_dir()
    if bundled is not None and (bundled / name).is_file():
        found.append(bundled / name)
    return found


async def tool_version(path: Path) -> PgTool | None:
    """`path --version` as a `PgTool`; None if it does not run or does not say."""
    try:
        process = await asyncio.create_subprocess_exec(
            str(path),
            "--version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await process.communicate()
    except OSError:
        return None
    found = _VERSION.search(out.decode(errors="replace"))
    if process.returncode != 0 or found is None:
        return None
    return PgTool(path, ".".join(g for g in found.groups() if g is not None))


def check_tool(tool: PgTool, at_least: int, against: str) -> PgTool:
    """`tool` if its major version is at least `at_least`, else a `BackupError` saying what
    to do (pg_dump cannot dump a newer server; pg_restore cannot read a newer pg_dump's
    archive)."""
    if tool.major < at_least:
        raise BackupError(
            f"{tool.path.name} {tool.version} ({tool.path}) is older than {against}: set "
            f"ARCHIVIST_PG_BIN_DIR to the bin directory of PostgreSQL {at_least} or newer"
        )
    return tool


async def pick_tool(name: str, bin_dir: Path | None, at_least: int, against: str) -> PgTool:
    """The newest usable `name` among `tool_candidates`, checked by `check_tool`."""
    candidates = tool_candidates(name, bin_dir)
    tools = [t for t in [await tool_version(p) for p in candidates] if t is not None]
    if not tools:
        where = f"in {bin_dir}" if bin_dir is not None else "on PATH or in the pgserver package"
        raise BackupError(
            f"no working {name} {where}: install the PostgreSQL client tools or set "
            "ARCHIVIST_PG_BIN_DIR"
        )
    return check_tool(max(tools, key=lambda t: t.major), at_least, against)


def libpq_environment(database_url: str) -> dict[str, str]:
    """This process's environment with the database's connection target as libpq variables:
    the password travels in PGPASSWORD, never on a command line others can read."""
    url: URL = async_url(database_url)
    env = {k: v for k, v in os.environ.items() if k not in _LIBPQ_TARGET}

    def query(name: str) -> str | None:
        value = url.query.get(name)
        if isinstance(value, tuple):
            value = value[0] if value else None
        return value

    host = query("host") or url.host
    target = {
        "PGHOST": host,
        "PGPORT": str(url.port) if url.port else query("port"),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": _sslmode(query("sslmode") or query("ssl")),
    }
    env.update({k: str(v) for k, v in target.items() if v})
    env["PGAPPNAME"] = "archivist-backup"
    return env


def _sslmode(value: str | None) -> str | None:
    if value is None:
        return None
    return {"true": "require", "false": "disable"}.get(value.lower(), value)


async def run_tool(tool: PgTool, args: Iterable[str], env: dict[str, str]) -> None:
    """Run `tool` with `args`; `BackupError` with its first error line if it fails. Cancelled,
    the process is killed rather than left running."""
    process = await asyncio.create_subprocess_exec(
        str(tool.path),
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        lines = [line.strip() for line in err.decode(errors="replace").splitlines()]
        errors = [line for line in lines if "error" in line.lower()] or lines or ["no output"]
        raise BackupError(f"{tool.path.name} failed (exit {process.returncode}): {errors[0]}")
