"""The request head as `archivist serve` reads it (issue #9, item 10): uvicorn's httptools
protocol, bounded. A head of megabytes is refused with 431 and the connection closed after at
most the bound has been read; one over the app's limit but under the protocol's gets the
app's 431 problem; bodies are not heads. Served by a real uvicorn on a free local port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from infrastructure.config import AppSettings
from infrastructure.container import build_container
from interfaces.http.app import create_app
from interfaces.http.server import BoundedHttpToolsProtocol, head_limit

SETTINGS = AppSettings(storage="memory")
LIMIT = head_limit(SETTINGS.max_header_bytes, SETTINGS.max_url_bytes)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(build_container(SETTINGS)),
        http=BoundedHttpToolsProtocol,
        h11_max_incomplete_event_size=LIMIT,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)


def exchange(port: int, chunks: list[bytes]) -> tuple[bytes, int]:
    """Send `chunks` (as far as the server lets us), then read until it closes or answers.
    Returns the answer and how many bytes were sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        try:
            for chunk in chunks:
                conn.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not _complete(answer):
                data = conn.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def test_a_head_of_megabytes_is_refused_early_with_431(port: int) -> None:
    start = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Padding: "
    padding = [b"x" * 65536] * 512  # 32 MiB, never finished
    answer, sent = exchange(port, [start, *padding])
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer
    assert b"request_header_fields_too_large" in answer
    assert sent < 32 * 1024 * 1024  # the server stopped reading long before the end


def test_a_head_over_the_apps_limit_gets_the_apps_problem(port: int) -> None:
    padding = b"x" * (SETTINGS.max_header_bytes + 1024)
    assert len(padding) < LIMIT
    request = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Padding: " + padding + b"\r\n\r\n"
    answer, _ = exchange(port, [request])
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"x-content-type-options: nosniff" in answer.lower()  # the app answered


def test_a_large_body_is_not_a_head(port: int) -> None:
    body = b'{"query": "' + b"w " * 200_000 + b'"}'
    head = (
        b"POST /api/v1/search HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    answer, _ = exchange(port, [head, *(body[i : i + 8192] for i in range(0, len(body), 8192))])
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]  # reached authentication


def test_ordinary_requests_are_served(port: int) -> None:
    answer, _ = exchange(port, [b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
