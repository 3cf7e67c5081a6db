"""Log lines people can use (issue #13 item 3): the request id (`X-Request-ID` accepted when
sane, else generated; echoed; in every log line of the request and in problem details) and the
access log, in both formats (`ARCHIVIST_LOG_FORMAT`), captured in process through the same
handler, filter and formatter `interfaces.logging_setup` configures."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers

from interfaces.http.request_log import MAX_LENGTH
from interfaces.logging_setup import ACCESS_LOGGER, LineFormatter, RequestIdFilter
from tests.api.conftest import API, Api, assert_problem

pytestmark = pytest.mark.parametrize("storage", ["memory"])  # logging: one storage will do

ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"
GENERATED_ID = re.compile(r"[0-9a-f]{16}")


class Captured:
    """What the root logger's handlers would write, in one format."""

    def __init__(self, json_lines: bool) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(LineFormatter(json_lines=json_lines))
        self.handler.addFilter(RequestIdFilter())
        # The test's HTTP client logs its own requests: not the server's lines.
        self.handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))

    @property
    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def objects(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture(params=["text", "json"])
def captured(request: pytest.FixtureRequest) -> Iterator[Captured]:
    capture = Captured(json_lines=request.param == "json")
    root, access = logging.getLogger(), logging.getLogger(ACCESS_LOGGER)
    levels = root.level, access.level
    root.addHandler(capture.handler)
    root.setLevel(logging.INFO)
    access.setLevel(logging.DEBUG)  # the probes' lines too
    try:
        yield capture
    finally:
        root.removeHandler(capture.handler)
        root.setLevel(levels[0])
        access.setLevel(levels[1])


def is_json(capture: Captured) -> bool:
    formatter = capture.handler.formatter
    assert isinstance(formatter, LineFormatter)
    return formatter.json_lines


def utc_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() == timedelta(0)
    return parsed


async def test_the_access_line_has_time_level_logger_request_id_and_no_query_values(
    api: Api, captured: Captured
) -> None:
    response = await api.client.get(
        f"{API}/me",
        params={"secret_looking": "hunter2", "limit": "5"},
        headers={**api.member.headers, "X-Request-ID": "trace-42.abc:def"},
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-42.abc:def"
    assert "hunter2" not in captured.stream.getvalue()
    if is_json(captured):
        (line,) = [o for o in captured.objects() if o["logger"] == ACCESS_LOGGER]
        utc_time(line["time"])
        assert line["level"] == "INFO"
        assert line["request_id"] == "trace-42.abc:def"
        assert line["method"] == "GET"
        assert line["path"] == f"{API}/me?secret_looking&limit"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], float)
        assert line["message"].startswith(f"GET {API}/me?secret_looking&limit 200 ")
    else:
        (line,) = [t for t in captured.lines if " archivist.access " in t]
        assert re.fullmatch(
            rf"{ISO_TIME} INFO archivist\.access \[trace-42\.abc:def\] "
            rf"GET {API}/me\?secret_looking&limit 200 \d+\.\d ms client=\S+",
            line,
        ), line
        utc_time(line.split(" ", 1)[0])


async def test_every_line_of_a_request_carries_its_id_and_so_does_the_problem(
    api: Api, captured: Captured
) -> None:
    class Broken:
        async def check(self) -> tuple[bool, str]:
            raise RuntimeError("the readiness check blew up")

    api.container.readiness.override(providers.Object(Broken()))

    response = await api.client.get("/ready")

    body = assert_problem(response, 500)
    request_id = response.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(request_id)
    assert body["request_id"] == request_id
    if is_json(captured):
        objects = captured.objects()
        error = next(o for o in objects if o["logger"] == "archivist.http")
        assert error["level"] == "ERROR"
        assert "RuntimeError: the readiness check blew up" in error["exc_info"]
        access = next(o for o in objects if o["logger"] == ACCESS_LOGGER)
        assert access["level"] == "DEBUG" and access["status"] == 500  # a probe: quiet
        assert {o["request_id"] for o in objects} == {request_id}
        for o in objects:
            utc_time(o["time"])
    else:
        heads = [t for t in captured.lines if re.match(ISO_TIME, t)]
        assert any(
            re.match(rf"{ISO_TIME} ERROR archivist\.http \[{request_id}\] unhandled error", t)
            for t in heads
        )
        assert any(
            re.match(rf"{ISO_TIME} DEBUG archivist\.access \[{request_id}\] GET /ready 500", t)
            for t in heads
        )
        assert "RuntimeError: the readiness check blew up" in captured.stream.getvalue()
        assert all(f"[{request_id}]" in t for t in heads)


async def test_a_request_id_is_made_when_none_is_sent_and_each_request_has_its_own(
    api: Api,
) -> None:
    first = await api.client.get(f"{API}/me", headers=api.member.headers)
    second = await api.client.get(f"{API}/me", headers=api.member.headers)

    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(GENERATED_ID.fullmatch(i) for i in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * (MAX_LENGTH + 1),  # too long
        "a\tb",  # a control character
        "abc def",  # a space
        "<script>",
        "id\u00e9",  # not ASCII
        "",  # empty
    ],
)
async def test_a_hostile_request_id_is_replaced(api: Api, hostile: str) -> None:
    response = await api.client.get(
        f"{API}/me",
        headers={**api.member.headers, "X-Request-ID": hostile.encode("utf-8")},
    )

    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_the_longest_sane_request_id_is_kept(api: Api) -> None:
    longest = "A1-_.:+/=" * (MAX_LENGTH // 9) + "z" * (MAX_LENGTH % 9)
    assert len(longest) == MAX_LENGTH

    response = await api.client.get(
        f"{API}/me", headers={**api.member.headers, "X-Request-ID": longest}
    )

    assert response.headers["x-request-id"] == longest


async def test_problem_details_carry_the_request_id(api: Api) -> None:
    unauthenticated = await api.client.get(f"{API}/me", headers={"X-Request-ID": "req-401"})
    not_found = await api.client.get("/no/such/route", headers={"X-Request-ID": "req-404"})
    invalid = await api.client.get(
        f"{API}/documents", params={"limit": "zero"}, headers=api.member.headers
    )

    assert assert_problem(unauthenticated, 401)["request_id"] == "req-401"
    assert unauthenticated.headers["x-request-id"] == "req-401"
    assert assert_problem(not_found, 404)["request_id"] == "req-404"
    body = assert_problem(invalid, 422)
    assert body["request_id"] == invalid.headers["x-request-id"]


async def test_a_url_refused_before_routing_has_a_request_id_too(api: Api) -> None:
    response = await api.client.get("/" + "a" * 20_000, headers={"X-Request-ID": "req-414"})

    assert assert_problem(response, 414)["request_id"] == "req-414"
    assert response.headers["x-request-id"] == "req-414"


async def test_the_request_id_does_not_outlive_its_request(api: Api) -> None:
    from interfaces.logging_setup import REQUEST_ID

    await api.client.get(f"{API}/me", headers={**api.member.headers, "X-Request-ID": "gone"})

    assert REQUEST_ID.get() is None
