"""The search page over HTTP (issue #14, "search"): the same use case as POST /search (the
search is logged, takes a rating, keeps its access rules), highlighted snippets that cannot
carry markup, the answer, the relaxed notice, filters and facet links, the API's cursor as
"more results", the API's messages beside refused fields, and the rating of one's own search
only. An L1 intern is never shown nor counted an L3 document."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.context import RequestContext
from domain.pagination import PageRequest
from interfaces.web.search import highlighted
from tests.web.documents_site import CSRF, Site, open_site


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    async with client:
        yield opened


def hit_titles(html: str) -> list[str]:
    return [
        unescape(t)
        for t in re.findall(
            r'<h3 class="search-hit__title"><a href="/documents/[^"]+">([^<]*)</a></h3>', html
        )
    ]


def query_id(html: str) -> UUID:
    found = re.search(r'action="/search/([0-9a-f-]{36})/rating"', html)
    assert found is not None
    return UUID(found.group(1))


def facet_values(html: str, name: str) -> dict[str, int]:
    section = re.search(rf'<ul aria-labelledby="facet-{name}">(.*?)</ul>', html, re.DOTALL)
    if section is None:
        return {}
    pairs = re.findall(
        r'<a href="[^"]*"[^>]*>([^<]*)(?:<span.*?</span>)*</a>\s*'
        r'<span class="search-facet__count">(\d+)</span>',
        section.group(1),
        re.DOTALL,
    )
    return {unescape(value): int(count) for value, count in pairs}


def link_with_text(html: str, text: str) -> str:
    found = re.search(rf'<a (?:class="[^"]*" )?href="([^"]+)"[^>]*>{re.escape(text)}</a>', html)
    assert found is not None, text
    return unescape(found.group(1))


async def history(site: Site, who: str) -> list[tuple[str, int | None]]:
    page = await site.container.search().history(
        RequestContext(actor=site.people[who]), PageRequest(50)
    )
    return [(e.query.query, e.feedback.rating if e.feedback else None) for e in page.items]


async def test_an_empty_query_shows_the_form_and_its_help_and_searches_nothing(
    site: Site,
) -> None:
    response = await site.as_("admin").client.get("/search")

    assert response.status_code == 200
    html = response.text
    assert '<form class="search-form" method="get" action="/search" role="search"' in html
    assert '<input id="search-q" name="q" type="search" value=""' in html
    assert "<summary>How to search</summary>" in html
    assert "<code>-draft</code>" in html
    assert 'class="search-hits"' not in html
    assert await history(site, "admin") == []


async def test_a_search_finds_an_uploaded_document_with_its_snippet_highlighted(
    site: Site,
) -> None:
    doc = await site.document(
        "admin", "Holiday policy", "Employees take their annual leave in the summer months."
    )

    response = await site.as_("admin").client.get("/search", params={"q": "annual leave"})

    assert response.status_code == 200
    html = response.text
    assert hit_titles(html) == ["Holiday policy"]
    assert f'<a href="/documents/{doc.id}">Holiday policy</a>' in html
    assert "<mark>annual</mark> <mark>leave</mark>" in html
    assert '<span class="search-badge">TXT</span>' in html
    assert "Documents found: 1" in html
    # The answer: the top hit's snippet as text (the API's `answer`).
    assert "<blockquote>Employees take their annual leave in the summer months</blockquote>" in html
    assert await history(site, "admin") == [("annual leave", None)]  # logged as the API logs


async def test_a_document_holding_markup_shows_it_as_text(site: Site) -> None:
    await site.document(
        "admin", "Odd <i>title", 'Budget <script>alert("x")</script> <mark>fake</mark> & co'
    )

    html = (await site.as_("admin").client.get("/search", params={"q": "budget"})).text

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<i>title" not in html
    assert "Odd &lt;i&gt;title" in html
    assert "<mark>fake</mark>" not in html  # the document's own tags are text, not marks
    assert "<mark>Budget</mark>" in html


@given(st.lists(st.sampled_from(["<mark>", "</mark>", "a", "<", ">", "&amp;", "&", '"', "x y"])))
def test_a_highlighted_snippet_is_text_and_balanced_marks_only(pieces: list[str]) -> None:
    markup = str(highlighted("".join(pieces)))

    tags = re.findall(r"<[^>]*>", markup)
    assert set(tags) <= {"<mark>", "</mark>"}
    assert tags[0::2] == ["<mark>"] * len(tags[0::2])
    assert tags[1::2] == ["</mark>"] * len(tags[1::2])
    assert len(tags) % 2 == 0
    assert "<" not in re.sub(r"</?mark>", "", markup)


async def test_an_intern_is_never_shown_nor_counted_an_l3_document(site: Site) -> None:
    await site.person("intern", access_level=1)
    await site.document(
        "admin",
        "Merger budget",
        "The secret budget of the merger.",
        access_level=3,
        tags=("merger",),
        department="Board",
    )
    await site.document("admin", "Team budget", "The budget of the team.", tags=("team",))

    html = (await site.as_("intern").client.get("/search", params={"q": "budget"})).text

    assert hit_titles(html) == ["Team budget"]
    assert "Documents found: 1" in html
    assert "Merger" not in html
    assert "merger" not in html
    assert "Board" not in html
    assert facet_values(html, "tag") == {"team": 1}
    assert facet_values(html, "type") == {"TXT": 1}

    by_tag = await site.client.get("/search", params={"q": "budget", "tag": "merger"})
    assert hit_titles(by_tag.text) == []
    assert "Documents found: 0" in by_tag.text
    assert 'class="search-facets"' not in by_tag.text

    admin = (await site.as_("admin").client.get("/search", params={"q": "budget"})).text
    assert sorted(hit_titles(admin)) == ["Merger budget", "Team budget"]
    assert facet_values(admin, "tag") == {"merger": 1, "team": 1}


async def test_facet_links_filter_the_search_and_chosen_ones_remove_the_filter(
    site: Site,
) -> None:
    await site.document("admin", "Plan A", "quarterly plan A", tags=("finance",))
    await site.document("admin", "Plan B", "quarterly plan B", tags=("sales",))

    html = (await site.as_("admin").client.get("/search", params={"q": "plan"})).text
    assert facet_values(html, "tag") == {"finance": 1, "sales": 1}

    chosen = await site.client.get(link_with_text(html, "finance"))
    assert hit_titles(chosen.text) == ["Plan A"]
    assert '<input type="checkbox" name="tag" value="finance" checked>' in chosen.text
    assert 'aria-current="true"' in chosen.text

    found = re.search(r'<a href="([^"]+)" aria-current="true"[^>]*>finance<span', chosen.text)
    assert found is not None
    removed = unescape(found.group(1))
    assert "tag=" not in removed
    assert sorted(hit_titles((await site.client.get(removed)).text)) == ["Plan A", "Plan B"]


async def test_the_filters_are_the_apis(site: Site) -> None:
    await site.document("admin", "Ops memo", "memo of ops", department="Ops")
    await site.document("admin", "Sales memo", "memo of sales", department="Sales")

    response = await site.as_("admin").client.get(
        "/search",
        params={"q": "memo", "department": "Sales", "type": "TXT", "created_after": "2000-01-01"},
    )

    assert hit_titles(response.text) == ["Sales memo"]
    later = await site.client.get("/search", params={"q": "memo", "created_after": "2999-01-01"})
    assert hit_titles(later.text) == []


async def test_more_results_follow_the_apis_cursor(site: Site) -> None:
    for n in range(12):
        await site.document("admin", f"Report {n:02}", f"weekly report number {n}")

    first = (await site.as_("admin").client.get("/search", params={"q": "report"})).text
    assert len(hit_titles(first)) == 10
    assert "Documents found: 12" in first
    more = link_with_text(first, "More results")
    assert "cursor=" in more

    second = (await site.client.get(more)).text
    assert len(hit_titles(second)) == 2
    assert set(hit_titles(first)).isdisjoint(hit_titles(second))
    assert "More results</a>" not in second
    assert "<blockquote>" not in second  # the answer is the first page's (as the API's)
    assert "cursor=" not in link_with_text(second, "First results")


async def test_a_relaxed_search_says_so(site: Site) -> None:
    await site.document("admin", "Leave", "Annual leave is granted in summer.")

    html = (await site.as_("admin").client.get("/search", params={"q": '"leave annual"'})).text

    assert hit_titles(html) == ["Leave"]
    assert "No document matched the quoted phrases or OR as written" in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"q": "x" * 1001}, "search-q", "String should have at most 1000 characters"),
        ({"q": "x", "type": "EXE"}, "search-type", "Input should be &#39;PDF&#39;"),
        ({"q": "x", "category": "c" * 101}, "search-category", "at most 100 characters"),
        ({"q": "x", "created_after": "yesterday"}, "search-after", "must be an RFC 3339"),
        ({"q": "x", "tag": "t" * 200}, "search-tag", "at most"),
        ({"q": "x", "cursor": "not-a-cursor"}, None, "cursor"),
    ],
)
async def test_a_refused_field_shows_the_apis_message_beside_it(
    site: Site, params: dict[str, str], field: str | None, message: str
) -> None:
    response = await site.as_("admin").client.get("/search", params=params)

    assert response.status_code == 422
    html = response.text
    assert "The search could not be made" in html
    if field is not None:
        assert f'id="{field}"' in html
        error = re.search(rf'<p class="search-error" id="{field}-error">([^<]*)</p>', html)
        assert error is not None
        assert message in error.group(1)
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html)
    else:
        assert '<p class="search-error">' in html
    assert await history(site, "admin") == []  # nothing was searched


async def test_a_rating_is_kept_for_the_search_and_rating_again_replaces_it(site: Site) -> None:
    await site.document("admin", "Holiday policy", "annual leave")
    html = (await site.as_("admin").client.get("/search", params={"q": "leave"})).text
    searched = query_id(html)
    assert '<input type="radio" name="rating" value="5" required>' in html

    rated = await site.post(
        f"/search/{searched}/rating", {"rating": "4", "back": "/search?q=leave"}
    )
    assert rated.status_code == 200
    assert "you rated these results 4 of 5" in rated.text
    assert '<a href="/search?q=leave">Back to the results</a>' in rated.text

    again = await site.client.post(
        f"/search/{searched}/rating",
        data={"rating": "2", "comment": "meh"},
        headers={"X-CSRF-Token": CSRF, "Accept": "application/json"},
    )
    assert again.json() == {"query_id": str(searched), "rating": 2}
    assert await history(site, "admin") == [("leave", 2)]


async def test_a_rating_out_of_range_shows_the_apis_message(site: Site) -> None:
    await site.document("admin", "Holiday policy", "annual leave")
    searched = query_id((await site.as_("admin").client.get("/search?q=leave")).text)

    response = await site.post(f"/search/{searched}/rating", {"rating": "9", "back": "//evil"})

    assert response.status_code == 422
    assert "must be an integer from 1 to 5" in response.text
    assert '<a href="/search">Back to the results</a>' in response.text


async def test_someone_elses_search_cannot_be_rated(site: Site) -> None:
    await site.person("mia")
    await site.document("admin", "Holiday policy", "annual leave")
    searched = query_id((await site.as_("admin").client.get("/search?q=leave")).text)

    theirs = await site.as_("mia").post(f"/search/{searched}/rating", {"rating": "1"})
    unknown = await site.post(f"/search/{uuid4()}/rating", {"rating": "1"})

    assert theirs.status_code == 404
    assert unknown.status_code == 404
    assert await history(site, "admin") == [("leave", None)]


async def test_a_rating_without_the_forms_token_is_refused(site: Site) -> None:
    await site.document("admin", "Holiday policy", "annual leave")
    searched = query_id((await site.as_("admin").client.get("/search?q=leave")).text)

    response = await site.client.post(f"/search/{searched}/rating", data={"rating": "5"})

    assert response.status_code == 403
    assert await history(site, "admin") == [("leave", None)]


async def test_a_guest_searches_what_they_may_read(site: Site) -> None:
    await site.person("visitor", role="guest")
    await site.document("admin", "Handbook", "welcome to the company")

    html = (await site.as_("visitor").client.get("/search", params={"q": "welcome"})).text

    assert hit_titles(html) == ["Handbook"]
