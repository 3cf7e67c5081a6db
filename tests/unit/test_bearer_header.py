"""The authentication middleware reads `Authorization` from the raw ASGI headers itself
(`auth.authorization_header`), as Litestar's `Headers.get` would."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.datastructures import Headers

from interfaces.http.auth import authorization_header


def scope_with(headers: list[tuple[bytes, bytes]]) -> Any:
    return {"type": "http", "headers": headers}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([], id="no fields"),
        pytest.param([(b"host", b"example.org")], id="no authorization"),
        pytest.param(
            [(b"host", b"h"), (b"authorization", b"Bearer one"), (b"authorization", b"Bearer two")],
            id="the first of two",
        ),
        pytest.param([(b"Authorization", b"Bearer mixed-case")], id="a name not lowercased"),
        pytest.param([(b"authorization", "Bearer caf\u00e9".encode("latin-1"))], id="latin-1"),
        pytest.param([(b"authorization", b"")], id="empty value"),
    ],
)
def test_reads_the_field_litestar_headers_would(headers: list[tuple[bytes, bytes]]) -> None:
    assert authorization_header(scope_with(headers)) == Headers(headers).get("authorization")
