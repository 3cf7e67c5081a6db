"""`GET /documents/{id}/thumbnail` over HTTP, on both storages: not made yet, made (WebP with
a strong ETag and no-cache), a 304 for the same ETag, and the document's own 404."""

from __future__ import annotations

from uuid import UUID

from tests.api.conftest import API, Api, assert_problem, uploaded
from tests.support.pdf import one_page_pdf


async def test_a_thumbnail_is_404_until_made_then_webp_with_a_strong_etag(api: Api) -> None:
    doc = await uploaded(api, api.member, "report.pdf", one_page_pdf("annual report"))
    url = f"{API}/documents/{doc['id']}/thumbnail"

    pending = await api.client.get(url, headers=api.member.headers)
    assert assert_problem(pending, 404)["code"] == "thumbnail_not_ready"

    await api.container.document_thumbnails().make(UUID(doc["id"]))
    made = await api.client.get(url, headers=api.member.headers)

    assert made.status_code == 200
    assert made.headers["content-type"] == "image/webp"
    assert made.content[8:12] == b"WEBP"
    etag = made.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert made.headers["cache-control"] == "private, no-cache"
    again = await api.client.get(url, headers={**api.member.headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_a_thumbnail_of_a_document_you_cannot_read_is_the_documents_404(api: Api) -> None:
    doc = await uploaded(api, api.admin, "secret.txt", b"for level 3", access_level=3)
    await api.container.document_thumbnails().make(UUID(doc["id"]))

    refused = await api.client.get(
        f"{API}/documents/{doc['id']}/thumbnail", headers=api.member.headers
    )

    assert assert_problem(refused, 404)["code"] == "not_found"
