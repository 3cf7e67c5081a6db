"""Upload records over HTTP (issue #12 item 5), on both storages: every attempt through
`POST /documents` and `POST /documents/text` leaves a record of what came of it, refused
ones without their bytes, and administrators list them with filters and pages."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.api.conftest import API, Api, assert_problem, blob_keys, upload, uploaded


async def records(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"{API}/uploads", params=params, headers=api.admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_stored_upload_is_recorded_with_who_what_and_the_document(api: Api) -> None:
    data = b"quarterly figures"
    doc = await uploaded(api, api.member, "q3.txt", data)

    [record] = await records(api)

    assert record["source"] == "http"
    assert record["status"] == "stored"
    assert record["error_code"] is None
    assert (record["user_id"], record["document_id"]) == (str(api.member.user_id), doc["id"])
    assert (record["filename"], record["size_bytes"]) == ("q3.txt", len(data))
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["user_agent"].startswith("python-httpx/")
    assert record["started_at"] <= record["completed_at"]


async def test_refused_uploads_are_recorded_without_their_bytes(api: Api) -> None:
    before = await blob_keys(api.container)
    disallowed = await upload(api, api.member, "tool.exe", b"MZ")
    mismatch = await upload(api, api.member, "fake.pdf", b"not a pdf at all")
    malformed = await api.client.post(
        f"{API}/documents",
        content=b"--x\r\nno headers end",
        headers={**api.member.headers, "Content-Type": "multipart/form-data; boundary=x"},
    )

    assert_problem(disallowed, 415)
    assert_problem(mismatch, 422)
    assert malformed.status_code == 400
    got = [(r["filename"], r["status"], r["error_code"], r["sha256"]) for r in await records(api)]
    assert got == [
        (None, "rejected", "bad_request", None),
        ("fake.pdf", "rejected", "content_mismatch", None),
        ("tool.exe", "rejected", "unsupported_type", None),
    ]
    assert await blob_keys(api.container) == before


async def test_a_duplicate_and_a_text_document_are_recorded_as_such(api: Api) -> None:
    first = await uploaded(api, api.member, "a.txt", b"same bytes")
    again = await upload(api, api.member, "b.txt", b"same bytes")
    assert_problem(again, 409)
    text = await api.client.post(
        f"{API}/documents/text",
        json={"title": "Note", "content": "hello", "document_type": "TXT"},
        headers=api.member.headers,
    )
    assert text.status_code == 201, text.text

    newest = await records(api)

    assert [(r["source"], r["status"]) for r in newest] == [
        ("text", "stored"),
        ("http", "duplicate"),
        ("http", "stored"),
    ]
    assert newest[1]["document_id"] == first["id"]  # what it duplicates
    assert newest[1]["sha256"] == hashlib.sha256(b"same bytes").hexdigest()
    assert newest[0]["size_bytes"] == len(b"hello")


async def test_admins_filter_and_page_through_the_records(api: Api) -> None:
    for n in range(3):
        await uploaded(api, api.member, f"{n}.txt", f"file {n}".encode())
    await upload(api, api.guest, "g.txt", b"guests may not")

    rejected = await records(api, status="rejected")
    mine = await records(api, user_id=str(api.member.user_id))
    first = await api.client.get(f"{API}/uploads?limit=2", headers=api.admin.headers)
    rest = await api.client.get(
        f"{API}/uploads?limit=2&cursor={first.json()['next_cursor']}", headers=api.admin.headers
    )

    assert [(r["user_id"], r["error_code"]) for r in rejected] == [
        (str(api.guest.user_id), "permission_denied")
    ]
    assert len(mine) == 3
    assert len(first.json()["items"]) == 2 and len(rest.json()["items"]) == 2
    assert rest.json()["next_cursor"] is None
    bad = await api.client.get(f"{API}/uploads?status=lost", headers=api.admin.headers)
    assert bad.status_code in (400, 422)
