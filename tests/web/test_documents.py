"""The documents list over HTTP (issue #14): the API's filters, sorts and keyset paging as
plain GET links (next and previous), bulk actions with their counts, the thumbnail and
download routes, and the rule that a document the viewer may not read is never shown,
counted or hinted at (an L1 intern and an L3 document)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from infrastructure.container import Container
from tests.web.documents_site import Site, link, open_site, titles


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    async with client:
        yield opened


async def test_the_list_shows_each_documents_row(site: Site) -> None:
    await site.person("mia", access_level=2)
    doc = await site.document("mia", "Budget 2026", tags=("finance", "plan"), access_level=2)
    await site.container.document_thumbnails().make(doc.id)
    await site.document("admin", "Handbook")

    response = await site.as_("mia").client.get("/documents")

    assert response.status_code == 200
    assert titles(response.text) == ["Handbook", "Budget 2026"]  # newest first
    html = response.text
    assert f'<a href="/documents/{doc.id}">Budget 2026</a>' in html
    assert f'src="/documents/{doc.id}/thumbnail"' in html
    assert 'src="/static/documents-placeholder.svg"' in html  # the handbook's is not made
    assert '<a class="documents-tag" href="/documents?tag=finance">finance</a>' in html
    assert '<td data-label="Level">L2</td>' in html
    assert '<td data-label="Owner">You</td>' in html
    assert '<td data-label="Owner">Another user</td>' in html  # a member learns no names
    assert '<td data-label="Type">TXT</td>' in html
    assert re.search(r'<td data-label="Size" class="documents-table__nowrap">\d+ B</td>', html)
    assert 'class="documents-state">Done</span>' in html  # the thumbnail was made


async def test_an_administrator_sees_the_owners_names(site: Site) -> None:
    await site.person("mia")
    await site.document("mia", "Notes")

    html = (await site.as_("admin").client.get("/documents")).text

    assert '<td data-label="Owner">Mia</td>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=finance", ["Budget"]),
        ("tag=finance&tag=plan", ["Budget"]),
        ("q=HAND", ["Handbook"]),
        ("document_type=txt", ["Handbook", "Guide", "Budget"]),
        ("access_level=2", ["Guide"]),
        ("department=Engineering", ["Guide"]),
        ("category=Policies", ["Handbook"]),
        ("processing=pending", ["Handbook", "Guide", "Budget"]),
        ("processing=done", []),
        ("created_after=2000-01-01&created_before=2001-01-01", []),
        ("sort=title", ["Budget", "Guide", "Handbook"]),
        ("sort=-title", ["Handbook", "Guide", "Budget"]),
        ("sort=created_at", ["Budget", "Guide", "Handbook"]),
    ],
)
async def test_the_filters_and_sorts_are_the_apis(
    site: Site, query: str, expected: list[str]
) -> None:
    from application.context import RequestContext

    await site.container.catalog().create_category(RequestContext.system(), "Policies", "")
    await site.person("eve", access_level=2, department="Engineering")
    await site.document("eve", "Budget", tags=("finance", "plan"))
    await site.document("eve", "Guide", access_level=2, department="Engineering")
    await site.document("admin", "Handbook", category="Policies")

    response = await site.as_("eve").client.get(f"/documents?{query}")

    assert response.status_code == 200
    assert titles(response.text) == expected


async def test_the_owner_filter_offers_me(site: Site) -> None:
    me = await site.person("eve")
    await site.document("eve", "Mine")
    await site.document("admin", "Theirs")

    response = await site.as_("eve").client.get(f"/documents?owner_id={me.id}")

    assert titles(response.text) == ["Mine"]
    assert f'<option value="{me.id}" selected>Me</option>' in response.text


async def test_a_refused_filter_is_shown_beside_its_field_with_the_apis_message(
    site: Site,
) -> None:
    await site.person("eve")
    await site.document("eve", "Mine")

    response = await site.as_("eve").client.get(
        "/documents?created_after=yesterday&access_level=9&category=Nope"
    )

    assert response.status_code == 422
    assert titles(response.text) == []
    assert 'id="filter-after-error"' in response.text
    assert "must be an integer from 1 to 3" in response.text
    assert "Some filters need your attention." in response.text


async def test_an_unknown_category_is_refused_as_the_api_refuses_it(site: Site) -> None:
    await site.person("eve")

    response = await site.as_("eve").client.get("/documents?category=Nope")

    assert response.status_code == 422
    assert "no category named &#39;Nope&#39;" in response.text


async def test_keyset_paging_goes_forward_and_back_by_links(site: Site) -> None:
    await site.person("eve")
    names = [f"Doc {n}" for n in "ABCDEFG"]
    for name in names:
        await site.document("eve", name)
    site.as_("eve")

    seen: list[list[str]] = []
    url: str | None = "/documents?sort=title&limit=3"
    while url is not None:
        html = (await site.client.get(url)).text
        seen.append(titles(html))
        url = link(html, "next")
    assert seen == [names[0:3], names[3:6], names[6:7]]

    back: list[list[str]] = [seen[-1]]
    url = link(html, "prev")
    while url is not None:
        html = (await site.client.get(url)).text
        back.append(titles(html))
        url = link(html, "prev")
    assert back == list(reversed(seen))
    assert link(html, "next") is not None  # the first page, reached going back, goes on


async def test_paging_both_ways_and_grants_by_email_on_each_storage(container: Container) -> None:
    """The listing walked back by the reversed sort's keyset, and grants named by e-mail
    (`GrantService.grantees`, `grant_by_email`), on memory and on PostgreSQL."""
    site, client = await open_site(container)
    async with client:
        await site.person("eve")
        names = [f"Doc {n}" for n in "ABCDE"]
        docs = [await site.document("eve", n, text=n * (i + 1)) for i, n in enumerate(names)]
        site.as_("eve")
        for sort, expected in [("-title", names[::-1]), ("size_bytes", names)]:
            pages: list[list[str]] = []
            url: str | None = f"/documents?sort={sort}&limit=2"
            while url is not None:
                html = (await site.client.get(url)).text
                pages.append(titles(html))
                url = link(html, "next")
            assert [title for page in pages for title in page] == expected
            back = [titles(html)]
            while (url := link(html, "prev")) is not None:
                html = (await site.client.get(url)).text
                back.append(titles(html))
            assert back == pages[::-1]

        await site.person("max")
        granted = await site.post(
            f"/documents/{docs[0].id}/grants", {"email": "MAX@example.com", "access": "write"}
        )
        assert granted.status_code == 303
        page = (await site.client.get(f"/documents/{docs[0].id}")).text
        assert "max@example.com" in page
        assert "<td>Read and write</td>" in page


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-size_bytes", "size_bytes"])
async def test_previous_returns_the_page_before_in_every_sort(site: Site, sort: str) -> None:
    await site.person("eve")
    for n in range(5):
        await site.document("eve", f"Doc {n}", text="x" * (n + 1))
    site.as_("eve")
    first = (await site.client.get(f"/documents?sort={sort}&limit=2")).text
    second_url = link(first, "next")
    assert second_url is not None
    second = (await site.client.get(second_url)).text
    previous_url = link(second, "prev")
    assert previous_url is not None

    again = (await site.client.get(previous_url)).text

    assert titles(again) == titles(first)
    assert titles(second) != titles(first)


async def test_a_cursor_of_another_sort_is_refused_and_the_first_page_offered(
    site: Site,
) -> None:
    await site.person("eve")
    for n in range(3):
        await site.document("eve", f"Doc {n}")
    site.as_("eve")
    page = (await site.client.get("/documents?sort=title&limit=1")).text
    next_url = link(page, "next")
    assert next_url is not None

    response = await site.client.get(next_url.replace("sort=title", "sort=size_bytes"))

    assert response.status_code == 422
    assert "is not a cursor of this listing" in response.text
    assert "Go to the first page" in response.text


async def test_the_trash_view_lists_the_viewers_trash(site: Site) -> None:
    await site.person("eve")
    gone = await site.document("eve", "Old")
    await site.document("eve", "Current")
    from application.context import RequestContext

    await site.container.document_lifecycle().delete(
        RequestContext(actor=site.people["eve"]), gone.id
    )
    site.as_("eve")

    assert titles((await site.client.get("/documents")).text) == ["Current"]
    trash = (await site.client.get("/documents?deleted=true")).text
    assert titles(trash) == ["Old"]
    assert '<option value="restore">Restore from the trash</option>' in trash
    assert '<option value="trash">' not in trash


# --- what an L1 intern never sees -----------------------------------------------------------


async def test_an_intern_never_sees_an_l3_document_anywhere(site: Site) -> None:
    await site.person("intern", access_level=1, department="Engineering")
    secret = await site.document("admin", "Merger plan", access_level=3, tags=("board",))
    await site.container.document_thumbnails().make(secret.id)
    await site.document("admin", "Handbook", tags=("board",))
    site.as_("intern")

    listing = await site.client.get("/documents")
    assert titles(listing.text) == ["Handbook"]
    for query in ("tag=board", "q=merger", "access_level=3", "sort=title&limit=1"):
        html = (await site.client.get(f"/documents?{query}")).text
        assert "Merger" not in html
        assert str(secret.id) not in html
    assert titles((await site.client.get("/documents?access_level=3")).text) == []

    absent = uuid4()
    for suffix in ("", "/thumbnail", "/file"):
        hidden = await site.client.get(f"/documents/{secret.id}{suffix}")
        missing = await site.client.get(f"/documents/{absent}{suffix}")
        assert hidden.status_code == missing.status_code == 404
        assert "Merger" not in hidden.text
        assert _without_ids(hidden.text, secret.id) == _without_ids(missing.text, absent)

    # A bulk action counts it as not found, as it would count an id that never existed.
    bulk = await site.post(
        "/documents/bulk", {"ids": [str(secret.id)], "action": "add_tags", "tags": "x"}
    )
    assert "<dt>Not found</dt><dd>1</dd>" in squeezed(bulk.text)
    assert "Changed" not in bulk.text
    assert (await site.current(secret.id)).tags == ["board"]


def _without_ids(html: str, doc_id: object) -> str:
    html = html.replace(str(doc_id), "ID")
    return re.sub(r"Request id: [0-9a-f]+", "", html)


# --- bulk actions ---------------------------------------------------------------------------


async def test_bulk_tagging_counts_how_each_document_ended(site: Site) -> None:
    await site.person("eve")
    mine = [await site.document("eve", f"Mine {n}") for n in range(2)]
    theirs = await site.document("admin", "Theirs")
    site.as_("eve")
    listing = (await site.client.get("/documents?sort=title")).text
    assert 'form="bulk-form"' in listing

    response = await site.post(
        "/documents/bulk",
        {
            "ids": [str(d.id) for d in [*mine, theirs]],
            "action": "add_tags",
            "tags": "q3, review",
            "back": "/documents?sort=title",
        },
    )

    assert response.status_code == 200
    html = squeezed(response.text)
    assert "<dt>Changed</dt><dd>2</dd>" in html
    assert "<dt>Not allowed</dt><dd>1</dd>" in html
    assert 'href="/documents?sort=title"' in html
    for doc in mine:
        assert (await site.current(doc.id)).tags == ["q3", "review"]
    assert (await site.current(theirs.id)).tags == []


async def test_bulk_trash_and_restore(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Draft")
    site.as_("eve")

    await site.post("/documents/bulk", {"ids": [str(doc.id)], "action": "trash"})
    assert (await site.current(doc.id)).in_trash
    await site.post("/documents/bulk", {"ids": [str(doc.id)], "action": "restore"})
    assert not (await site.current(doc.id)).in_trash


async def test_bulk_without_a_selection_says_so_and_changes_nothing(site: Site) -> None:
    await site.person("eve")
    site.as_("eve")

    response = await site.post(
        "/documents/bulk", {"action": "add_tags", "tags": "x", "back": "https://evil.example/"}
    )

    assert response.status_code == 422
    assert "Select at least one document first." in response.text
    assert 'href="/documents"' in response.text  # the foreign address is not followed


async def test_a_guest_sees_no_bulk_form(site: Site) -> None:
    await site.person("gus", role="guest")
    await site.document("admin", "Handbook")

    html = (await site.as_("gus").client.get("/documents")).text

    assert titles(html) == ["Handbook"]
    assert "bulk-form" not in html
    assert 'name="ids"' not in html


# --- thumbnails and downloads ---------------------------------------------------------------


async def test_the_thumbnail_is_the_use_cases_picture_or_a_placeholder(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Notes")
    site.as_("eve")

    waiting = await site.client.get(f"/documents/{doc.id}/thumbnail")
    assert waiting.status_code == 200
    assert waiting.headers["content-type"].startswith("image/svg+xml")
    assert waiting.headers["cache-control"] == "no-store"

    await site.container.document_thumbnails().make(doc.id)
    made = await site.client.get(f"/documents/{doc.id}/thumbnail")
    assert made.headers["content-type"] == "image/webp"
    assert made.content[8:12] == b"WEBP"
    again = await site.client.get(
        f"/documents/{doc.id}/thumbnail", headers={"If-None-Match": made.headers["etag"]}
    )
    assert again.status_code == 304


async def test_the_download_is_an_attachment_and_recorded(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Notes", text="Hello, world.")

    response = await site.as_("eve").client.get(f"/documents/{doc.id}/file")

    assert response.status_code == 200
    assert response.content == b"Hello, world."
    assert response.headers["content-disposition"].startswith('attachment; filename="Notes.txt"')
    from domain.events import EventFilter
    from domain.pagination import PageRequest

    async with site.container.uow_factory()(autocommit=True) as uow:
        trail = await uow.events.list(
            EventFilter(action="document.downloaded", subject_id=str(doc.id)), PageRequest()
        )
    assert [e.actor_id for e in trail.items] == [site.people["eve"].id]


async def test_the_pages_speak_korean(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan")
    site.as_("eve")
    korean = {"Accept-Language": "ko"}

    listing = await site.client.get("/documents", headers=korean)
    page = await site.client.get(f"/documents/{doc.id}", headers=korean)

    assert "<h1>문서</h1>" in listing.text
    assert 'data-selected-text="선택: {count}개"' in listing.text
    assert '<td data-label="Owner">' not in listing.text
    assert '<td data-label="소유자">나</td>' in listing.text
    assert "변경 사항 저장" in page.text
    assert "<td>업로드함</td>" in squeezed(page.text)


def squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html)
