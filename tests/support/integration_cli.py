"""Running the installed `archivist` command as a user would: a subprocess with its own
environment, and `archivist serve` as a server process polled over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

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
    *args: str, env: dict[str, str], cwd: Path, stdin: bytes | None = None
) -> CliResult:
    """`archivist ARGS...` with its output captured (bounded to `CLI_TIMEOUT_S`), `stdin`
    (if given) piped to it. `cwd` keeps a stray `.env` out."""
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


@dataclass
class Server:
    """A running `archivist serve`; its console output goes to files under `log_dir`."""

    process: subprocess.Popen[bytes]
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
    env: dict[str, str], cwd: Path, log_dir: Path, extra_args: Sequence[str] = ()
) -> Server:
    """Start `archivist serve` on a free port (with `extra_args`, e.g. `--workers 2`) and
    wait (bounded) until /ready answers 200. On failure the process is stopped and the error
    carries its console output."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"serve-{port}.out"
    stderr_path = log_dir / f"serve-{port}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [str(ARCHIVIST), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=err,
        )
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
