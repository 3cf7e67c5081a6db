"""Bad uploads get a clear 4xx problem, never a 500, and leave nothing behind: no document, no
event, no blob (SPEC principle 7; issue #3, acceptance 5)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest

from tests.api.conftest import (
    API,
    Api,
    assert_problem,
    blob_keys,
    store_state,
    upload,
)
from tests.support.pdf import pdf_with_pages

MiB = 1024 * 1024
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def docx(text: str, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr(
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'
            f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
        )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, str]:
    """A hand-made multipart body (name, filename, bytes): names a client library would
    escape or refuse go through unchanged."""
    boundary = "archivist-test-boundary"
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def post_raw(api: Api, body: bytes, content_type: str) -> httpx.Response:
    return await api.client.post(
        f"{API}/documents",
        content=body,
        headers={**api.member.headers, "Content-Type": content_type},
    )


async def everything(api: Api) -> tuple[Any, ...]:
    """Rows, events and blobs: what a failed upload must not change."""
    async with api.container.uow_factory()(autocommit=True) as uow:
        referenced = await uow.documents.storage_keys()
        tags = [t.name for t in await uow.tags.list()]
    return (await store_state(api.container), referenced, tags, await blob_keys(api.container))


BAD_UPLOADS = [
    pytest.param("empty.txt", b"", {}, 422, "file", id="empty file"),
    pytest.param("tool.exe", b"MZ\x90\x00", {}, 415, None, id="unknown extension"),
    pytest.param("fake.pdf", b"just some text\n", {}, 422, None, id="pdf that is text"),
    pytest.param("latin1.txt", "café crème".encode("latin-1"), {}, 422, "file", id="not utf-8"),
    pytest.param(
        "bomb.docx",
        docx("hi", {"word/media/zeros.bin": bytes(60 * MiB)}),
        {},
        422,
        None,
        id="docx zip bomb",
    ),
    pytest.param("cut.pdf", pdf_with_pages("cut in half")[:300], {}, 422, None, id="truncated pdf"),
    pytest.param("ok.txt", b"fine", {"metadata": "{not json"}, 422, "metadata", id="bad json"),
    pytest.param("ok.txt", b"fine", {"metadata": "[1, 2]"}, 422, "metadata", id="json array"),
    pytest.param("ok.txt", b"fine", {"metadata": '"text"'}, 422, "metadata", id="json string"),
    pytest.param("ok.txt", b"fine", {"tags": ["t" * 51]}, 422, "tags", id="tag 51 chars"),
    pytest.param("ok.txt", b"fine", {"access_level": "high"}, 422, "access_level", id="level"),
    pytest.param("ok.txt", b"fine", {"access_level": "4"}, 422, "access_level", id="level 4"),
    pytest.param("ok.txt", b"fine", {"title": "t" * 501}, 422, "title", id="title 501 chars"),
    pytest.param("ok.txt", b"fine", {"on_duplicate": "maybe"}, 422, "on_duplicate", id="dup"),
    pytest.param("ok.txt", b"fine", {"category": "Nope"}, 422, "category", id="no category"),
    pytest.param(
        "ok.txt", b"fine", {"taxonomy_path": "A//B"}, 422, "taxonomy_path", id="taxonomy path"
    ),
    pytest.param(
        "ok.txt", b"fine", {"taxonomy_path": "A/B"}, 404, None, id="no published taxonomy"
    ),
    pytest.param(
        "ok.txt",
        b"fine",
        {"taxonomy_path": "A", "taxonomy_version": "9.9"},
        404,
        None,
        id="unknown taxonomy version",
    ),
    pytest.param("ok.txt", b"fine", {"owner_id": "x"}, 422, "owner_id", id="unknown field"),
]


@pytest.mark.parametrize(("filename", "data", "fields", "status", "field"), BAD_UPLOADS)
async def test_a_bad_upload_is_a_clear_problem_and_leaves_nothing_behind(
    api: Api, filename: str, data: bytes, fields: dict[str, Any], status: int, field: str | None
) -> None:
    before = await everything(api)

    response = await upload(api, api.member, filename, data, **fields)

    body = assert_problem(response, status)
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field]
    assert await everything(api) == before


async def test_a_pdf_that_is_really_text_is_a_content_mismatch(api: Api) -> None:
    response = await upload(api, api.member, "fake.pdf", b"just some text\n")

    assert assert_problem(response, 422)["code"] == "content_mismatch"


async def test_a_disallowed_extension_is_415_before_the_file_is_read(api: Api) -> None:
    await api.client.put(
        f"{API}/file-types/md",
        json={"mime_type": "text/markdown", "is_allowed": False, "max_size_bytes": 100},
        headers=api.admin.headers,
    )

    response = await upload(api, api.member, "notes.md", b"# a heading\n")

    assert assert_problem(response, 415)["code"] == "unsupported_media_type"


async def test_a_file_over_its_type_limit_is_413_and_leaves_nothing_behind(api: Api) -> None:
    limited = await api.client.put(
        f"{API}/file-types/txt",
        json={"mime_type": "text/plain", "max_size_bytes": 1000},
        headers=api.admin.headers,
    )
    assert limited.status_code == 200
    before = await everything(api)

    response = await upload(api, api.member, "big.txt", b"x" * 1001)

    assert assert_problem(response, 413)["code"] == "content_too_large"
    assert await everything(api) == before


async def test_a_file_at_its_type_limit_is_accepted(api: Api) -> None:
    await api.client.put(
        f"{API}/file-types/txt",
        json={"mime_type": "text/plain", "max_size_bytes": 1000},
        headers=api.admin.headers,
    )

    response = await upload(api, api.member, "exact.txt", b"x" * 1000)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "filename",
    [
        pytest.param("../../etc/passwd.txt", id="traversal"),
        pytest.param("..\\\\secrets.txt", id="backslash traversal"),
        pytest.param("a\x01b.txt", id="control character"),
        pytest.param("", id="empty name"),
    ],
)
async def test_a_filename_with_a_path_or_control_characters_is_refused(
    api: Api, filename: str
) -> None:
    before = await everything(api)
    body, content_type = multipart(("file", filename, b"some text"))

    response = await post_raw(api, body, content_type)

    assert_problem(response, 422)
    assert await everything(api) == before


async def test_an_upload_without_a_file_part_is_refused(api: Api) -> None:
    body, content_type = multipart(("title", None, b"no file"))

    response = await post_raw(api, body, content_type)

    assert assert_problem(response, 422)["errors"][0]["field"] == "file"


async def test_an_upload_that_is_not_multipart_is_415(api: Api) -> None:
    response = await api.client.post(
        f"{API}/documents", json={"file": "x"}, headers=api.member.headers
    )

    assert_problem(response, 415)


async def test_a_malformed_multipart_body_is_400(api: Api) -> None:
    response = await post_raw(
        api,
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nno closing boundary',
        "multipart/form-data; boundary=b",
    )

    assert_problem(response, 400)


async def test_a_guest_is_refused_before_the_file_is_read(api: Api) -> None:
    response = await upload(api, api.guest, "notes.txt", b"a guest's notes")

    assert_problem(response, 403)


async def test_an_invalid_tag_colour_is_refused(api: Api) -> None:
    response = await api.client.post(
        f"{API}/tags", json={"name": "red", "color": "red"}, headers=api.member.headers
    )

    assert assert_problem(response, 422)["errors"][0]["field"] == "color"


async def test_a_tag_of_51_characters_is_refused_when_tagging(api: Api) -> None:
    created = await api.client.post(
        f"{API}/documents/text",
        json={"title": "t", "content": "c"},
        headers=api.member.headers,
    )
    doc_id = created.json()["id"]

    response = await api.client.post(
        f"{API}/documents/{doc_id}/tags", json={"tags": ["t" * 51]}, headers=api.member.headers
    )

    assert_problem(response, 422)


@pytest.mark.parametrize(
    "metadata", ["{broken", "[]", "1", "null"], ids=["broken", "array", "number", "null"]
)
async def test_a_metadata_filter_that_is_not_a_json_object_is_refused(
    api: Api, metadata: str
) -> None:
    response = await api.client.get(
        f"{API}/documents", params={"metadata": metadata}, headers=api.member.headers
    )

    error = assert_problem(response, 422)["errors"][0]
    assert (error["field"], error["source"]) == ("metadata", "query")


async def test_a_date_filter_without_a_time_zone_is_refused(api: Api) -> None:
    response = await api.client.get(
        f"{API}/documents",
        params={"created_after": "2026-01-01T00:00:00"},
        headers=api.member.headers,
    )

    assert assert_problem(response, 422)["errors"][0]["field"] == "created_after"
