"""The upload page over HTTP (issue #14, "upload"): several files in one plain form, each
through the same use case as POST /documents and recorded in the upload log as one HTTP
upload: stored (a link), a duplicate (a link to the readable document holding the same bytes)
or refused with the API's reason; one file's refusal leaves the others stored. One file per
request as JSON for the page's script, the processing state a script polls (404 for what the
viewer may not read), the API's messages beside refused fields, and no upload for guests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from html import unescape
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.context import RequestContext
from domain.events import EventFilter
from domain.pagination import PageRequest
from domain.uploads import UploadFilter, UploadStatus
from interfaces.web.upload import MAX_FILES
from tests.web.documents_site import CSRF, Site, open_site

FileParts = Sequence[tuple[str, tuple[str, bytes, str]]]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    async with client:
        yield opened


def files(*named: tuple[str, bytes]) -> FileParts:
    return [("file", (name, data, "application/octet-stream")) for name, data in named]


async def upload(
    site: Site,
    parts: FileParts,
    fields: dict[str, str] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The form as a browser sends it: the token first, the fields, then the files."""
    data = {"_csrf_token": CSRF, **(fields or {})}
    return await site.client.post("/upload", data=data, files=parts, headers=headers)


def outcomes(html: str) -> list[tuple[str, str, str]]:
    """Each file's row: its name, its outcome's label and what follows it (text)."""
    rows = re.findall(
        r'<th scope="row" class="upload-filename">([^<]*)</th>\s*<td>\s*'
        r'<span class="upload-status upload-status--\w+">([^<]*)</span>(.*?)</td>',
        html,
        re.DOTALL,
    )
    return [
        (unescape(n), unescape(s), " ".join(unescape(re.sub(r"<[^>]+>", " ", rest)).split()))
        for n, s, rest in rows
    ]


async def records(site: Site) -> list[tuple[str | None, UploadStatus, str | None]]:
    async with site.container.uow_factory()(autocommit=True) as uow:
        page = await uow.uploads.list(UploadFilter(), PageRequest(50))
    return sorted((r.filename, r.status, r.error_code) for r in page.items)


async def test_guests_are_shown_no_upload(site: Site) -> None:
    await site.person("visitor", role="guest")
    site.as_("visitor")

    form = await site.client.get("/upload")
    posted = await upload(site, files(("a.txt", b"hello")))
    listing = await site.client.get("/search")

    assert form.status_code == 403
    assert posted.status_code == 403
    assert 'href="/upload"' not in listing.text
    assert await records(site) == []


async def test_the_form_offers_what_the_viewer_may_choose(site: Site) -> None:
    await site.person("mia", access_level=2, department="Sales")
    await site.container.catalog().create_category(RequestContext.system(), "Contracts")

    response = await site.as_("mia").client.get("/upload")

    assert response.status_code == 200
    html = response.text
    assert (
        '<form class="upload-form" method="post" action="/upload" enctype="multipart/form-data"'
        in (html)
    )
    first_field = re.search(r'data-upload[^>]*>\s*<input type="hidden" name="(\w+)"', html)
    assert first_field is not None and first_field.group(1) == "_csrf_token"  # the token first
    assert '<input id="upload-files" name="file" type="file" multiple required' in html
    assert re.findall(r'<option value="(\d)"', html) == ["1", "2"]  # up to her clearance
    assert '<option value="Sales">Sales</option>' in html  # her department, or none
    assert '<option value="Contracts">Contracts</option>' in html
    assert 'accept=".docx,.md,.pdf,.txt"' in html  # the upload policy's types
    assert '<a href="/upload" aria-current="page">Upload</a>' in html


async def test_three_files_show_three_outcomes(site: Site) -> None:
    await site.person("mia", access_level=2)
    existing = await site.document("mia", "Minutes", "Minutes of the board")

    response = await site.as_("mia").client.post(
        "/upload",
        data={"_csrf_token": CSRF, "tags": "board, 2026", "description": "From the archive"},
        files=files(
            ("notes.txt", b"Notes of the planning day"),
            ("copy.txt", b"Minutes of the board"),
            ("tool.exe", b"MZ\x90\x00"),
        ),
    )

    assert response.status_code == 200
    rows = outcomes(response.text)
    assert [(name, label) for name, label, _ in rows] == [
        ("notes.txt", "Stored"),
        ("copy.txt", "Already here"),
        ("tool.exe", "File type not accepted"),
    ]
    assert rows[2][2] == ".exe files are not accepted"
    assert f'<a href="/documents/{existing.id}">Open the document with the same content</a>' in (
        response.text
    )
    stored_id = UUID(
        re.findall(r'<a href="/documents/([0-9a-f-]{36})">notes</a>', response.text)[0]
    )
    stored = await site.current(stored_id)
    assert set(stored.tags) == {"board", "2026"}  # the form's tags, split at commas
    assert stored.metadata == {"description": "From the archive"}
    assert f'data-processing-url="/documents/{stored_id}/processing.json"' in response.text
    assert await records(site) == [
        ("copy.txt", UploadStatus.DUPLICATE, "duplicate"),
        ("notes.txt", UploadStatus.STORED, None),
        ("tool.exe", UploadStatus.REJECTED, "unsupported_type"),
    ]


async def test_a_file_over_its_types_limit_is_refused_and_the_others_stored(site: Site) -> None:
    async with site.container.uow_factory()() as uow:
        txt = await uow.file_types.get("txt")
        assert txt is not None
        await uow.file_types.put(replace(txt, max_size_bytes=100))
        await uow.commit()

    response = await site.as_("admin").client.post(
        "/upload",
        data={"_csrf_token": CSRF},
        files=files(("big.txt", b"x" * 5000), ("small.md", b"# Small\n\nfine")),
    )

    rows = outcomes(response.text)
    assert [(n, label) for n, label, _ in rows] == [
        ("big.txt", "Too large"),
        ("small.md", "Stored"),
    ]
    assert rows[0][2] == ".txt files may be at most 100 bytes"


async def test_a_level_above_the_uploaders_clearance_is_refused_by_the_policy(site: Site) -> None:
    await site.person("intern", access_level=1)

    response = await site.as_("intern").client.post(
        "/upload",
        data={"_csrf_token": CSRF, "access_level": "3"},
        files=files(("a.txt", b"secret plans")),
    )

    rows = outcomes(response.text)
    assert [(n, label) for n, label, _ in rows] == [("a.txt", "Not allowed")]
    assert "members only up to their own clearance" in rows[0][2]


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"access_level": "7"}, "upload-level", "must be 1, 2 or 3"),
        ({"tags": "x" * 300}, "upload-tags", "at most"),
    ],
)
async def test_a_refused_field_shows_the_apis_message_and_nothing_is_stored(
    site: Site, fields: dict[str, str], field_id: str, message: str
) -> None:
    response = await site.as_("admin").client.post(
        "/upload", data={"_csrf_token": CSRF, **fields}, files=files(("a.txt", b"some text"))
    )

    assert response.status_code == 422
    error = re.search(rf'<p class="upload-error" id="{field_id}-error">([^<]*)</p>', response.text)
    assert error is not None
    assert message in error.group(1)
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', response.text)
    assert [status for _, status, _ in await records(site)] == [UploadStatus.REJECTED]


async def test_a_form_without_a_file_says_so_beside_the_file_field(site: Site) -> None:
    # What a browser sends for a file input left empty: a part with an empty filename.
    body = (
        f'--b\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{CSRF}\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    response = await site.as_("admin").client.post(
        "/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )

    assert response.status_code == 422
    assert re.search(
        r'<p class="upload-error" id="upload-files-error">[^<]*required', response.text
    )
    assert await records(site) == []


async def test_a_form_without_its_token_stores_nothing(site: Site) -> None:
    response = await site.as_("admin").client.post(
        "/upload", data={"tags": "x"}, files=files(("a.txt", b"text"))
    )

    assert response.status_code == 403
    assert await records(site) == []


async def test_a_script_sends_one_file_and_gets_its_outcome_as_json(site: Site) -> None:
    response = await site.as_("admin").client.post(
        "/upload",
        data={"tags": "one"},
        files=files(("a.txt", b"a text of its own")),
        headers={"X-CSRF-Token": CSRF, "Accept": "application/json"},
    )

    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    [result] = body["files"]
    assert result["outcome"] == "stored"
    assert result["filename"] == "a.txt"
    assert result["url"] == f"/documents/{result['document_id']}"
    assert result["processing_url"] == f"/documents/{result['document_id']}/processing.json"
    assert body["errors"] == {}

    again = await site.client.post(
        "/upload",
        files=files(("b.txt", b"a text of its own")),
        headers={"X-CSRF-Token": CSRF, "Accept": "application/json"},
    )
    [duplicate] = again.json()["files"]
    assert (duplicate["outcome"], duplicate["document_id"]) == ("duplicate", result["document_id"])


async def test_the_processing_state_is_the_apis_and_reading_it_records_no_view(
    site: Site,
) -> None:
    doc = await site.document("admin", "Scan", "scanned text")

    response = await site.as_("admin").client.get(f"/documents/{doc.id}/processing.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    state = response.json()
    assert state["document_id"] == str(doc.id)
    assert state["processing"]["thumbnail"]["state"] == "pending"
    assert state["done"] is False

    await site.container.document_thumbnails().make(doc.id)
    done = (await site.client.get(f"/documents/{doc.id}/processing.json")).json()
    assert done["processing"]["thumbnail"]["state"] == "done"
    assert done["done"] is True

    async with site.container.uow_factory()(autocommit=True) as uow:
        viewed = await uow.events.list(EventFilter(action="document.viewed"), PageRequest(10))
    assert viewed.items == []


async def test_the_processing_state_of_a_document_the_viewer_may_not_read_is_not_found(
    site: Site,
) -> None:
    await site.person("intern", access_level=1)
    secret = await site.document("admin", "Merger", "merger plans", access_level=3)

    response = await site.as_("intern").client.get(f"/documents/{secret.id}/processing.json")
    unknown = await site.client.get(f"/documents/{UUID(int=1)}/processing.json")

    assert response.status_code == 404
    assert unknown.status_code == 404
    assert "Merger" not in response.text


async def test_more_files_than_the_form_takes_are_refused_as_a_whole(site: Site) -> None:
    many = files(*[(f"f{n}.txt", f"text {n}".encode()) for n in range(MAX_FILES + 1)])

    response = await upload(site.as_("admin"), many)

    assert response.status_code == 422
    assert f"send at most {MAX_FILES} files at once" in response.text
    assert await records(site) == []
