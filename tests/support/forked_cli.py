"""`archivist` as a process of its own, without paying its imports every time.

Starting the installed command costs about 3 s on the CI machine, nearly all of it imports
(SQLAlchemy, Alembic, Litestar, pydantic, pgqueuer, pypdf, ...); the CLI and browser tests
start it some hundred times. Here a fork server (`multiprocessing`'s "forkserver": one clean
process a test worker starts once, that imports the command's modules and then forks a
child for each run) gives each run a process of its own in milliseconds:

- the child sets its environment, working directory and standard streams (files) as the
  test asked, then runs `interfaces.cli.main.main(argv)`, exactly what the `archivist`
  script runs, and exits with its status;
- it is a real process: its own environment, signals (`archivist serve` is stopped with
  SIGTERM, a crash test SIGKILLs it), exit status and file descriptors;
- on exit it runs the `atexit` handlers as the interpreter would (pgserver stops the
  embedded PostgreSQL in one), then flushes its streams.

What it cannot show is the installed script itself and a cold interpreter: a few tests run
the real `archivist` (`fresh_interpreter=True`), and ARCHIVIST_TEST_FRESH_PROCESSES=1 runs
every one that way. Nothing Archivist imports reads its settings from the environment at
import time (they are read when a command runs), which is what makes the preloaded imports
safe; tests/unit/test_imports_read_no_settings.py keeps it so. The one exception is
prometheus_client, which picks its multiprocess mode at import from
PROMETHEUS_MULTIPROC_DIR (`READ_AT_IMPORT`): a run with it set starts the installed
script."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path

# What the fork server imports once: the command line and everything its commands use.
PRELOAD = [
    "interfaces.cli.main",
    "interfaces.cli.common",
    "interfaces.cli.serving",
    "interfaces.cli.maintenance",
    "interfaces.cli.worker",
    "interfaces.cli.backup",
    "interfaces.cli.importing",
    "interfaces.http.app",
    "infrastructure.container",
    "uvicorn",
    __name__,
]


# Settings a library reads when imported, not when used: a forked child would not see them.
READ_AT_IMPORT = frozenset({"PROMETHEUS_MULTIPROC_DIR"})


def needs_fresh_interpreter(env: dict[str, str]) -> bool:
    """Whether a run with `env` must start the installed script: asked for every run
    (ARCHIVIST_TEST_FRESH_PROCESSES=1), or `env` sets what is read at import."""
    return os.environ.get("ARCHIVIST_TEST_FRESH_PROCESSES") == "1" or any(
        name in env for name in READ_AT_IMPORT
    )


_context: ForkServerContext | None = None


def _fork_server() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


@dataclass(frozen=True, slots=True)
class Streams:
    """Where the child's standard streams go: files (stdin may be none: /dev/null)."""

    stdin: Path | None
    stdout: Path
    stderr: Path


def _child(argv: list[str], env: dict[str, str], cwd: str, streams: Streams) -> None:
    """The child's whole life: become the process the test asked for, run the command."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    _reopen(0, streams.stdin or Path(os.devnull), os.O_RDONLY)
    _reopen(1, streams.stdout, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    _reopen(2, streams.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    # As the interpreter would set them up on these descriptors (not a terminal: stdout is
    # line-buffered here, as PYTHONUNBUFFERED=1 asks of the installed script's runs).
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(  # noqa: SIM115
        2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False
    )
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    from interfaces.cli.main import main

    try:
        status = main(argv)
    finally:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(status)


def _reopen(fd: int, path: Path, flags: int) -> None:
    opened = os.open(path, flags, 0o644)
    try:
        os.dup2(opened, fd)
    finally:
        os.close(opened)


class ForkedProcess:
    """A forked `archivist` run with the part of `subprocess.Popen`'s interface the tests
    use: `pid`, `poll()`, `wait(timeout)`, `returncode`, `terminate()`, `kill()`,
    `send_signal()`, and `sentinel` (readable once the process has ended)."""

    def __init__(self, process: BaseProcess) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None
        return pid

    @property
    def sentinel(self) -> int:
        return self._process.sentinel

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(["archivist"], timeout or 0.0)
        return code

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def start_forked(
    argv: list[str], env: dict[str, str], cwd: Path, streams: Streams
) -> ForkedProcess:
    """Fork `archivist ARGV...` from the fork server (started, and its imports made, on the
    first call of this test process)."""
    process = _fork_server().Process(
        target=_child, args=(argv, env, str(cwd), streams), name="archivist"
    )
    process.start()
    return ForkedProcess(process)
