"""How `archivist serve` runs uvicorn: the httptools protocol, with a bound on the request head.

uvicorn's httptools protocol reads a request head of any size into memory before the app sees
it (a 32 MB header block cost 53 MB of RSS); only its h11 protocol has a bound,
`h11_max_incomplete_event_size`. `BoundedHttpToolsProtocol` applies that same setting to
httptools: once more bytes than that have arrived without the head being complete, it answers
431 and closes the connection. The app's own `RequestLimits` gives the precise 431/414 for
heads under this coarse bound (docs/decisions.md, "Input bounds")."""

from __future__ import annotations

import json
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_SLACK_BYTES: Final = 4 * 1024  # the request line's method and version, line ends


def head_limit(max_header_bytes: int, max_url_bytes: int) -> int:
    """The bytes a request head may take before the protocol gives up on it."""
    return max_header_bytes + max_url_bytes + HEAD_SLACK_BYTES


def _refusal(limit: int) -> bytes:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Request Header Fields Too Large",
            "status": 431,
            "detail": f"the request head exceeds {limit} bytes",
            "code": "request_header_fields_too_large",
        }
    ).encode()
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request head over
    `config.h11_max_incomplete_event_size` bytes (431, connection closed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_limit: int | None = self.config.h11_max_incomplete_event_size
        self._in_head = True  # between the end of a message (or the start) and a full head
        self._head_bytes = 0
        self._progressed = False  # a head or a message ended in the chunk being parsed

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._progressed = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._progressed = True
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        self._progressed = False
        super().data_received(data)
        if self._head_limit is None or self.transport.is_closing():
            return
        if self._progressed:
            # What follows in this chunk is at most the start of the next head: not counted
            # (an under-count by one read at most, never an over-count of a body).
            self._head_bytes = 0
            return
        if not self._in_head:
            return  # a body streaming in: its size is the app's business (413)
        self._head_bytes += len(data)
        if self._head_bytes > self._head_limit:
            self.logger.warning("request head over %d bytes: refused", self._head_limit)
            self.transport.write(_refusal(self._head_limit))
            self.transport.close()
