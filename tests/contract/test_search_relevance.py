"""Search beyond the first page, on both storages (issue #10): questions, word forms, cursors,
facets, "more like this", and that nothing unreadable shapes any of them."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import RequestContext
from application.document_store import DocumentFields
from application.search import SearchResult
from application.users import CreateUser
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import DocumentType
from domain.errors import NotFound, ValidationFailed
from domain.pagination import PageRequest
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()


async def _people(c: Container) -> tuple[RequestContext, RequestContext]:
    c.clock.override(providers.Object(SteppingClock()))
    admin = await c.users().create(
        SYSTEM, CreateUser(email="a@example.com", name="A", role="admin", access_level=3)
    )
    reader = await c.users().create(SYSTEM, CreateUser(email="r@example.com", name="R"))
    return RequestContext(actor=admin), RequestContext(actor=reader)


async def _doc(c: Container, ctx: RequestContext, title: str, text: str, **fields: Any) -> Any:
    return await c.document_uploads().create_text(
        ctx,
        text,
        DocumentType(fields.pop("document_type", "TXT")),
        DocumentFields(title=title, on_duplicate="allow", **fields),
    )


async def _all_pages(c: Container, ctx: RequestContext, query: str, limit: int) -> list[str]:
    titles: list[str] = []
    cursor = None
    for _ in range(100):
        page = await c.search().search(ctx, query, limit=limit, cursor=cursor)
        titles += [h.title for h in page.results]
        cursor = page.next_cursor
        if cursor is None:
            return titles
    raise AssertionError("the cursor never ended")


async def test_questions_find_documents_holding_some_of_their_words(container: Container) -> None:
    admin, reader = await _people(container)
    await _doc(container, admin, "Retrieval augmented generation", "How RAG uses a retriever.")
    await _doc(container, admin, "Invoices", "Paying invoices every month.")
    await _doc(container, admin, "계약서 안내", "계약서를 검토하는 방법입니다.")
    result = await container.search().search(reader, "How do I use RAG?")
    assert [h.title for h in result.results] == ["Retrieval augmented generation"]
    assert [h.title for h in (await container.search().search(reader, "invoice")).results] == [
        "Invoices"
    ]
    for question in ("계약서는 어디에 있나요", "검토할 계약서"):
        found = await container.search().search(reader, question)
        assert [h.title for h in found.results] == ["계약서 안내"], question


async def test_quoted_phrases_that_match_nothing_fall_back_to_the_words(
    container: Container,
) -> None:
    admin, reader = await _people(container)
    await _doc(container, admin, "pipes", "water pipes and valves")
    result = await container.search().search(reader, '"valves and pipes" -steam')
    assert result.relaxed and [h.title for h in result.results] == ["pipes"]
    exact = await container.search().search(reader, '"water pipes"')
    assert not exact.relaxed and [h.title for h in exact.results] == ["pipes"]
    assert (await container.search().search(reader, '"no such" -pipes')).results == []


async def test_cursor_pages_neither_repeat_nor_skip_while_documents_are_added(
    container: Container,
) -> None:
    admin, reader = await _people(container)
    for i in range(23):
        await _doc(container, admin, f"d{i:02}", "report " * (1 + i % 5) + f"filler {i}")
    whole = await container.search().search(reader, "report", limit=50)
    assert whole.next_cursor is None and whole.total == 23
    assert await _all_pages(container, reader, "report", 4) == [h.title for h in whole.results]

    first = await container.search().search(reader, "report", limit=5)
    assert first.total == 23 and first.next_cursor is not None
    for i in range(6):  # added between pages, some ranking above the cursor, some below
        await _doc(container, admin, f"new{i}", "report " * (1 + i) + "fresh")
    seen = [h.title for h in first.results]
    cursor: str | None = first.next_cursor
    while cursor is not None:
        page = await container.search().search(reader, "report", limit=5, cursor=cursor)
        assert page.answer == ""  # the answer comes with the first page
        seen += [h.title for h in page.results]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert {f"d{i:02}" for i in range(23)} <= set(seen)


async def test_a_cursor_of_another_search_is_refused(container: Container) -> None:
    admin, reader = await _people(container)
    for i in range(4):
        await _doc(container, admin, f"d{i}", f"alpha beta {i}")
    page = await container.search().search(reader, "alpha", limit=2)
    assert page.next_cursor is not None
    for query, cursor in (("beta", page.next_cursor), ("alpha", "not-a-cursor"), ("alpha", "e30")):
        with pytest.raises(ValidationFailed) as err:
            await container.search().search(reader, query, limit=2, cursor=cursor)
        assert [e.field for e in err.value.errors] == ["cursor"]


async def test_facets_equal_the_counts_a_listing_gives(container: Container) -> None:
    admin, reader = await _people(container)
    await container.catalog().create_category(admin, "Finance")
    await _doc(container, admin, "a", "budget plan", tags=("q1",), category="Finance")
    await _doc(container, admin, "b", "budget review", tags=("q1", "q2"), department=None)
    await _doc(container, admin, "c", "budget", document_type="MARKDOWN", tags=("q2",))
    await _doc(container, admin, "d", "holiday plan", tags=("q1",), category="Finance")
    await _doc(container, admin, "secret", "budget", access_level=3, tags=("q1",))
    result = await container.search().search(reader, "budget", limit=1, facets=True)
    assert result.facets is not None and result.total == 3
    hits = {h.title for h in (await container.search().search(reader, "budget", limit=50)).results}

    async def listed(**filters: Any) -> int:
        page = await container.document_reads().list_documents(
            reader, DocumentFilter(**filters), DocumentSort.CREATED, PageRequest(100)
        )
        return sum(1 for d in page.items if d.title in hits)

    for facet in result.facets.tag:
        assert facet.count == await listed(tags=(facet.value,)), facet
    for facet in result.facets.document_type:
        assert facet.count == await listed(document_type=DocumentType(facet.value)), facet
    for facet in result.facets.category:
        if facet.value is not None:
            assert facet.count == await listed(category=facet.value), facet
    assert {(f.value, f.count) for f in result.facets.tag} == {("q1", 2), ("q2", 2)}
    assert {(f.value, f.count) for f in result.facets.category} == {("Finance", 1), (None, 2)}
    assert sum(f.count for f in result.facets.department) == 3


async def test_more_like_this_shares_the_rarest_terms_and_hides_the_unreadable(
    container: Container,
) -> None:
    admin, reader = await _people(container)
    source = await _doc(container, admin, "turbine blades", "turbine blade fatigue cracks")
    near = await _doc(container, admin, "blade cracks", "fatigue cracks in a turbine blade")
    await _doc(container, admin, "far", "a cake recipe with cracks")
    await _doc(container, admin, "other", "gardening notes")
    hidden = await _doc(
        container, admin, "secret", "turbine blade fatigue cracks turbine", access_level=3
    )
    similar = await container.search().similar(reader, source.id, 10)
    titles = [h.title for h in similar.hits]
    assert titles[0] == "blade cracks" and "turbine blades" not in titles
    assert "secret" not in titles and near.id in {h.document_id for h in similar.hits}
    with pytest.raises(NotFound):
        await container.search().similar(reader, hidden.id, 10)


# --- nothing unreadable shapes a result -----------------------------------------------------

_WORDS = ["alpha", "beta", "gamma", "invoices", "invoice", "검색을", "검색", "delta"]


async def _world(
    docs: list[tuple[list[str], int, list[str]]], keep: set[int] | None
) -> tuple[Container, RequestContext, dict[int, Any]]:
    c = build_container(AppSettings(storage="memory"))
    admin, reader = await _people(c)
    made = {}
    for i, (text, level, tags) in enumerate(docs):
        if keep is not None and i not in keep:
            continue
        made[i] = await _doc(
            c, admin, f"d{i}", " ".join(text), access_level=level, tags=tuple(tags)
        )
    return c, reader, made


def _ranked(hits: list[Any]) -> list[tuple[float, str]]:
    """(score, title) in rank order; ties (ordered by random ids) by title."""
    ranked = [(-h.score, h.title) for h in hits]
    assert [s for s, _ in ranked] == sorted(s for s, _ in ranked)
    return sorted(ranked)


def _view(result: SearchResult) -> Any:
    return (
        _ranked(result.results),
        result.total,
        result.relaxed,
        result.facets,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    docs=st.lists(
        st.tuples(
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=7),
            st.integers(1, 3),
            st.lists(st.sampled_from(["x", "y"]), max_size=2, unique=True),
        ),
        min_size=1,
        max_size=8,
    ),
    query=st.sampled_from(
        ["alpha", "alpha beta invoice", '"alpha beta"', "검색 delta", "gamma -beta", "inv"]
    ),
)
async def test_documents_the_reader_may_not_read_change_no_score_count_facet_or_similar(
    docs: list[tuple[list[str], int, list[str]]], query: str
) -> None:
    """The same search by the same reader over the full corpus and over the corpus without
    the documents they may not read (level 1 reader: only level-1 documents) gives the same
    hits, scores, totals, facets and "more like this" — titles are the documents' indexes."""
    readable = {i for i, (_, level, _) in enumerate(docs) if level == 1}
    full, reader_full, made_full = await _world(docs, None)
    only, reader_only, made_only = await _world(docs, readable)
    seen_full = await full.search().search(reader_full, query, limit=50, facets=True)
    seen_only = await only.search().search(reader_only, query, limit=50, facets=True)
    assert _view(seen_full) == _view(seen_only)
    for i in sorted(readable)[:2]:
        like_full = await full.search().similar(reader_full, made_full[i].id, 50)
        like_only = await only.search().similar(reader_only, made_only[i].id, 50)
        assert _ranked(like_full.hits) == _ranked(like_only.hits)
