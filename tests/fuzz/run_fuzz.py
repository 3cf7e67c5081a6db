"""Schemathesis against the app's own OpenAPI schema (`make fuzz`; issue #9, Must-show 3).

Serves the app from this process on the in-memory storage (uvicorn on a free port of
127.0.0.1), seeds a few objects of every kind through the API, then runs `st run` with every
check and `--max-examples` cases per operation. Configuration, and the reasons for its few
narrow exceptions: tests/fuzz/schemathesis.toml and tests/fuzz/hooks.py. Exits with st's code.

Credentials: the fuzzer is an administrator, so it can (and does) revoke its own token, or
create another admin and deactivate itself. A second small HTTP server on 127.0.0.1 mints a
fresh administrator with a token on request; the auth provider in hooks.py asks it for one at
the start and whenever a request answers 401."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from interfaces.http.app import create_app

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CONFIG = HERE / "schemathesis.toml"
API = "/api/v1"

T = TypeVar("T")


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class BackgroundServer:
    """uvicorn serving `app` on its own event loop in a thread, on an already bound socket.
    `call` runs a coroutine on that loop (the in-memory store belongs to it)."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(self.server.serve(sockets=[sock]),),
            daemon=True,
        )

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class TokenMint:
    """`GET /` answers the secret of a token of a brand-new administrator."""

    def __init__(self, container: Container, server: BackgroundServer) -> None:
        self.container = container
        self.server = server
        self.numbers = itertools.count(1)
        mint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                secret = mint.mint().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(secret)))
                self.end_headers()
                self.wfile.write(secret)

            def log_message(self, *_: Any) -> None:
                pass

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def mint(self) -> str:
        n = next(self.numbers)
        created = self.server.call(
            self.container.bootstrap().create_admin(f"fuzz-admin-{n}@fuzz.example", f"Fuzz {n}")
        )
        return created.issued.secret

    def __enter__(self) -> TokenMint:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def seed(base: str, token: str) -> None:
    """A few objects of every kind, so listings and lookups have something to return."""
    with httpx.Client(base_url=base + API, headers={"Authorization": f"Bearer {token}"}) as c:

        def ok(response: httpx.Response) -> Any:
            assert response.status_code < 300, (response.request.url, response.text)
            return response.json() if response.content else None

        for i in range(3):
            ok(
                c.post(
                    "/documents/text",
                    json={
                        "title": f"Seed document {i}",
                        "content": f"Seed text number {i} about archives and search.",
                        "tags": ["seed"],
                        "metadata": {"seed": i},
                    },
                )
            )
        ok(c.post("/categories", json={"name": "Seeded"}))
        ok(c.post("/users", json={"email": "member@fuzz.example", "name": "Member"}))
        ok(c.post("/taxonomies", json={"version": "1.0.0"}))
        ok(c.post("/taxonomies/1.0.0/nodes", json={"path": "AI"}))
        ok(c.post("/taxonomies/1.0.0/nodes", json={"path": "AI/RAG"}))
        ok(c.post("/search", json={"query": "archives"}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("st_args", nargs="*", help="extra arguments for `st run` (after --)")
    args = parser.parse_args(argv)

    # Throttling off: `ignored_auth` sends refused credentials on purpose, and every /api/v1
    # request of this one client would otherwise be answered 429 after 20 of them.
    container = build_container(AppSettings(storage="memory", auth_failures_per_minute=0))
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with (
        BackgroundServer(create_app(container), sock) as server,
        TokenMint(container, server) as mint,
    ):
        seed(base, mint.mint())
        command = [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/schema/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(args.max_examples),
            *(["--seed", str(args.seed)] if args.seed is not None else []),
            *args.st_args,
        ]
        env = {**os.environ, "ARCHIVIST_FUZZ_MINT_URL": mint.url}
        return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
