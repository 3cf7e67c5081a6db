"""Running the `archivist` command as a user would: a process with its own environment,
and `archivist serve` as a server process polled over HTTP on 127.0.0.1.

Runs are forked from a fork server that has made the command's imports once
(tests/support/forked_cli.py: the same `main`, a process of its own, ~3 s less a run);
`fresh_interpreter=True` starts the installed script instead, as every run does under
ARCHIVIST_TEST_FRESH_PROCESSES=1."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from tests.support.forked_cli import ForkedProcess, Streams, needs_fresh_interpreter, start_forked

ARCHIVIST = Path(sys.executable).parent / "archivist"
CLI_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def cli_env(database_url: str | None, data_dir: Path) -> dict[str, str]:
    """The process environment with Archivist's own settings replaced by these. Without a
    `database_url`, DATABASE_URL is unset: `archivist` starts its embedded PostgreSQL."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARCHIVIST_") and k not in {"DATABASE_URL", "TEST_DATABASE_URL"}
    }
    env.update(ARCHIVIST_DATA_DIR=str(data_dir), ARCHIVIST_SLOW_QUERY_MS="0", PYTHONUNBUFFERED="1")
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


@dataclass(frozen=True, slots=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


async def run_cli(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdin: bytes | None = None,
    fresh_interpreter: bool = False,
) -> CliResult:
    """`archivist ARGS...` with its output captured (bounded to `CLI_TIMEOUT_S`), `stdin`
    (if given) piped to it. `cwd` keeps a stray `.env` out."""
    if fresh_interpreter or needs_fresh_interpreter(env):
        return await _run_installed(*args, env=env, cwd=cwd, stdin=stdin)
    with tempfile.TemporaryDirectory(prefix="archivist-run-") as scratch:
        streams = Streams(
            stdin=None if stdin is None else Path(scratch, "stdin"),
            stdout=Path(scratch, "stdout"),
            stderr=Path(scratch, "stderr"),
        )
        if streams.stdin is not None and stdin is not None:
            streams.stdin.write_bytes(stdin)
        process = start_forked(list(args), env, cwd, streams)
        try:
            async with asyncio.timeout(CLI_TIMEOUT_S):
                await _ended(process)
        except TimeoutError:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
            raise
        code = process.wait(STOP_TIMEOUT_S)
        return CliResult(code, _text(streams.stdout), _text(streams.stderr))


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def _ended(process: ForkedProcess) -> None:
    """Wait, without a thread or polling, until the process has ended (its sentinel is
    readable)."""
    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    loop.add_reader(process.sentinel, lambda: ended.done() or ended.set_result(None))
    try:
        await ended
    finally:
        loop.remove_reader(process.sentinel)


async def _run_installed(
    *args: str, env: dict[str, str], cwd: Path, stdin: bytes | None = None
) -> CliResult:
    process = await asyncio.create_subprocess_exec(
        str(ARCHIVIST),
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            out, err = await process.communicate(stdin)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process(Protocol):
    """What the tests do with a server's process: a `subprocess.Popen` or a `ForkedProcess`."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def send_signal(self, signum: int) -> None: ...


class RunningCli:
    """`archivist ARGS...` running in the background (`start_cli`), with the part of
    asyncio's `Process` the tests use: `returncode`, `send_signal`, `kill` and `await
    wait()`."""

    def __init__(self, process: Process) -> None:
        self.process = process

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.process.kill()

    async def wait(self) -> int:
        if isinstance(self.process, ForkedProcess):
            await _ended(self.process)
            return self.process.wait(STOP_TIMEOUT_S)
        return await asyncio.to_thread(self.process.wait)


def start_cli(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stderr: Path,
    stdout: Path | None = None,
    fresh_interpreter: bool = False,
) -> RunningCli:
    """Start `archivist ARGS...` and leave it running, its stderr (and stdout, else nothing)
    appended to files."""
    out = stdout or Path(os.devnull)
    if fresh_interpreter or needs_fresh_interpreter(env):
        with out.open("ab") as out_file, stderr.open("ab") as err_file:
            popen = subprocess.Popen(
                [str(ARCHIVIST), *args],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out_file,
                stderr=err_file,
            )
        return RunningCli(popen)
    return RunningCli(start_forked(list(args), env, cwd, Streams(None, out, stderr)))


@dataclass
class Server:
    """A running `archivist serve`; its console output goes to files under `log_dir`."""

    process: Process
    base_url: str
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)


def start_server(
    env: dict[str, str],
    cwd: Path,
    log_dir: Path,
    extra_args: Sequence[str] = (),
    fresh_interpreter: bool = False,
) -> Server:
    """Start `archivist serve` on a free port (with `extra_args`, e.g. `--workers 2`) and
    wait (bounded) until /ready answers 200. On failure the process is stopped and the error
    carries its console output."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"serve-{port}.out"
    stderr_path = log_dir / f"serve-{port}.err"
    argv = ["serve", "--host", "127.0.0.1", "--port", str(port), *extra_args]
    process: Process
    if fresh_interpreter or needs_fresh_interpreter(env):
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(
                [str(ARCHIVIST), *argv], env=env, cwd=cwd, stdout=out, stderr=err
            )
    else:
        process = start_forked(argv, env, cwd, Streams(None, stdout_path, stderr_path))
    server = Server(process, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer"
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise AssertionError(
                    f"archivist serve exited with {server.process.returncode}:\n{server.stderr}"
                )
            try:
                response = client.get("/ready")
            except httpx.TransportError as err:
                last = repr(err)
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            time.sleep(0.1)
    raise AssertionError(
        f"archivist serve not ready within {START_TIMEOUT_S:.0f} s ({last}):\n{server.stderr}"
    )
