"""Search on both storages (acceptance items 1-3 of issue #5): web-search syntax, Korean,
access control in hits and answers, logs, feedback, retention, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import RequestContext
from application.document_store import DocumentFields
from application.search import SearchFilters
from application.settings import SettingWrite
from application.users import CreateUser
from domain import policy
from domain.documents import DocumentType
from domain.errors import NotFound, ValidationFailed
from domain.pagination import PageRequest
from domain.search import parse_query
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.search_index.analysis import analyze
from infrastructure.search_index.plan import matches, plan
from infrastructure.sqlalchemy.database import Database
from infrastructure.tuning import Tuning
from tests.conftest import truncate_all
from tests.support.clock import SteppingClock

SYSTEM = RequestContext.system()
CORPUS = {
    "vectors": "Vector search with embeddings and approximate nearest neighbours.",
    "postgres": "PostgreSQL full text search uses tsvector and GIN indexes.",
    "legacy": "Legacy keyword search over vector files, kept for compatibility.",
    "cooking": "A recipe for kimchi stew: cabbage, pork and chilli.",
    "korean": "한국어 문서 검색 시스템은 단어 단위로 찾습니다.",
    "machine": "Machine learning models learn representations from data.",
}


@pytest.fixture
async def world(
    container: Container,
) -> tuple[Container, RequestContext, RequestContext, dict[str, Any]]:
    clock = SteppingClock()
    container.clock.override(providers.Object(clock))
    admin = await container.users().create(
        SYSTEM, CreateUser(email="a@example.com", name="A", role="admin", access_level=3)
    )
    reader = await container.users().create(SYSTEM, CreateUser(email="r@example.com", name="R"))
    admin_ctx, reader_ctx = RequestContext(actor=admin), RequestContext(actor=reader)
    ids = {}
    for title, text in CORPUS.items():
        doc = await container.document_uploads().create_text(
            admin_ctx, text, DocumentType.TXT, DocumentFields(title=title)
        )
        ids[title] = doc.id
    secret = await container.document_uploads().create_text(
        admin_ctx,
        "Secret vector strategy for the board.",
        DocumentType.TXT,
        DocumentFields(title="secret plan", access_level=3),
    )
    ids["secret"] = secret.id
    return container, admin_ctx, reader_ctx, {"ids": ids, "clock": clock}


async def _titles(c: Container, ctx: RequestContext, query: str, **kw: Any) -> set[str]:
    result = await c.search().search(ctx, query, limit=50, **kw)
    return {hit.title for hit in result.results}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search", {"vectors", "postgres", "legacy"}),
        ('"vector search"', {"vectors"}),
        ("vector -legacy", {"vectors"}),
        ("kimchi OR tsvector", {"cooking", "postgres"}),
        ("machine lear", {"machine"}),
        ("embed", {"vectors"}),
        ("검색", {"korean"}),
        ("한국어 문서", {"korean"}),
        ("POSTGRESQL", {"postgres"}),
        ("nothing-like-this", set()),
    ],
)
async def test_web_search_syntax(world: tuple, query: str, expected: set[str]) -> None:  # type: ignore[type-arg]
    c, _, reader, _ = world
    assert await _titles(c, reader, query) == expected


async def test_what_the_reader_may_not_read_is_never_a_hit_or_an_answer(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, reader, _ = world
    hidden = await c.search().search(reader, "strategy board")
    visible = await c.search().search(admin, "strategy board")
    assert (hidden.results, hidden.answer) == ([], "")
    assert [h.title for h in visible.results] == ["secret plan"]
    assert "strategy" in visible.answer.lower()


async def test_hits_are_ranked_with_highlighted_snippets(world: tuple) -> None:  # type: ignore[type-arg]
    c, _, reader, _ = world
    result = await c.search().search(reader, "vector")
    assert result.results[0].title == "vectors"  # title matches rank first
    assert all("<mark>" in h.snippet for h in result.results)
    assert result.answer and "<mark>" not in result.answer
    assert result.results[0].score >= result.results[-1].score


async def test_filters_narrow_the_hits(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, _, _ = world
    await c.document_uploads().create_text(
        admin, "search tips", DocumentType.MARKDOWN, DocumentFields(title="md", tags=("howto",))
    )
    by_tag = await _titles(c, admin, "search", filters=SearchFilters(tags=("HOWTO",)))
    by_type = await _titles(
        c, admin, "search", filters=SearchFilters(document_type=DocumentType.MARKDOWN)
    )
    assert by_tag == by_type == {"md"}


async def test_every_search_leaves_one_query_and_one_response(world: tuple) -> None:  # type: ignore[type-arg]
    c, _, reader, _ = world
    first = await c.search().search(reader, "search", session_id="s-1")
    await c.search().search(reader, "!!!")
    history = await c.search().history(reader, PageRequest())
    assert [(h.query.query, h.response.result_count) for h in history.items] == [  # type: ignore[union-attr]
        ("!!!", 0),
        ("search", 3),
    ]
    logged = history.items[1]
    assert logged.query.id == first.query_id and logged.query.session_id == "s-1"
    assert logged.response is not None
    assert 0 <= logged.response.response_time_ms < 10_000
    assert logged.response.sources[0]["title"] in {"vectors", "postgres", "legacy"}


async def test_feedback_is_the_searchers_and_a_second_rating_replaces_the_first(
    world: tuple,
) -> None:  # type: ignore[type-arg]
    c, admin, reader, _ = world
    result = await c.search().search(reader, "search")
    with pytest.raises(NotFound):
        await c.search().rate(admin, result.query_id, 5)
    first = await c.search().rate(reader, result.query_id, 2, "meh")
    second = await c.search().rate(reader, result.query_id, 4)
    history = await c.search().history(reader, PageRequest())
    assert second.id == first.id
    assert history.items[0].feedback is not None
    assert (history.items[0].feedback.rating, history.items[0].feedback.comment) == (4, None)
    analytics = await c.search().analytics(admin, days=30)
    assert (analytics.average_rating, analytics.rating_histogram[4]) == (4.0, 1)


@pytest.mark.parametrize(
    ("query", "limit"),
    [("", 10), ("   ", 10), ("x" * 10_000, 10), ("search", 0), ("search", 51)],
)
async def test_bad_searches_are_refused(world: tuple, query: str, limit: int) -> None:  # type: ignore[type-arg]
    c, _, reader, _ = world
    with pytest.raises(ValidationFailed):
        await c.search().search(reader, query, limit=limit)


@pytest.mark.parametrize("query", ["!!!", "OR", "-", '""', "- OR -", "-search"])
async def test_operators_or_punctuation_alone_give_an_empty_result(
    world: tuple, query: str
) -> None:  # type: ignore[type-arg]
    c, _, reader, _ = world
    result = await c.search().search(reader, query)
    assert (result.results, result.answer) == ([], "")


async def test_ratings_outside_one_to_five_are_refused(world: tuple) -> None:  # type: ignore[type-arg]
    c, _, reader, _ = world
    result = await c.search().search(reader, "search")
    for rating in (0, 6):
        with pytest.raises(ValidationFailed):
            await c.search().rate(reader, result.query_id, rating)


async def test_purge_removes_only_logs_older_than_the_retention(world: tuple) -> None:  # type: ignore[type-arg]
    c, admin, reader, extra = world
    await c.settings().put(admin, "search_retention_days", SettingWrite(10))
    old = await c.search().search(reader, "vector")
    await c.search().rate(reader, old.query_id, 3)
    extra["clock"].advance(timedelta(days=11))
    await c.search().search(reader, "kimchi")
    assert await c.search().purge_logs(dry_run=True) == 1
    assert await c.search().purge_logs() == 1
    history = await c.search().history(reader, PageRequest())
    assert [h.query.query for h in history.items] == ["kimchi"]


vocabulary = ["alpha", "beta", "gamma", "delta", "검색", "데이터"]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    docs=st.lists(
        st.tuples(
            st.lists(st.sampled_from(vocabulary), min_size=1, max_size=6),
            st.integers(1, 3),
            st.sampled_from([None, "Eng", "Ops"]),
        ),
        min_size=1,
        max_size=8,
    ),
    readers=st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from([None, "Eng", "Ops"])), min_size=1, max_size=3
    ),
    grants=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 7)), max_size=4),
    query=st.sampled_from(
        [
            "alpha",
            "beta gamma",
            '"alpha beta"',
            "alpha OR 검색",
            "del",
            "-alpha beta",
            "데이터",
            '"beta alpha" OR gamma',
            '"alpha beta" 검색 gam',
        ]
    ),
)
@pytest.mark.postgres
async def test_hits_are_exactly_the_readable_matches_on_both_storages(
    pg_database: Database,
    tmp_path_factory: pytest.TempPathFactory,
    docs: list[Any],
    readers: list[Any],
    grants: list[Any],
    query: str,
) -> None:
    await truncate_all(pg_database.engine)
    memory = build_container(AppSettings(storage="memory"))
    pg = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=tmp_path_factory.mktemp("b")),
        pg_database.url,
    )
    pg.database.override(pg_database)
    parsed = parse_query(query)
    seen: dict[str, list[Any]] = {}
    for c in (memory, pg):
        owner = await c.users().create(
            SYSTEM, CreateUser(email="o@example.com", name="O", role="admin", access_level=3)
        )
        users = [
            await c.users().create(
                SYSTEM,
                CreateUser(email=f"u{i}@example.com", name="U", access_level=lvl, department=dept),
            )
            for i, (lvl, dept) in enumerate(readers)
        ]
        made = []
        for i, (text, lvl, dept) in enumerate(docs):
            made.append(
                await c.document_uploads().create_text(
                    RequestContext(actor=owner),
                    " ".join(text),
                    DocumentType.TXT,
                    DocumentFields(
                        title=f"d{i}",
                        access_level=lvl,
                        department=dept,
                        on_duplicate="allow",
                        tags=(f"t{i % 2}",),
                    ),
                )
            )
        granted = {(u % len(users), d % len(made)) for u, d in grants}
        for u, d in granted:
            await c.grants().grant(RequestContext(actor=owner), made[d].id, users[u].id, "read")
        observed: list[Any] = []
        for ui, user in enumerate(users):
            ctx = RequestContext(actor=user)
            expected = {
                f"d{di}"
                for di, doc in enumerate(made)
                if policy.can_read(user, doc, "read" if (ui, di) in granted else None)  # type: ignore[arg-type]
                and matches(plan(parsed), analyze(f"d{di}", " ".join(docs[di][0])))
            }
            result = await c.search().search(ctx, query, limit=50, facets=True)
            got = {hit.title for hit in result.results}
            assert got == expected or result.relaxed, (type(c.uow_factory()).__name__, query)
            similar = (
                await c.search().similar(ctx, made[0].id, 50)
                if any(h.title == "d0" for h in result.results)
                else None
            )
            observed.append(
                (
                    _ranking(result.results),
                    result.total,
                    result.relaxed,
                    result.facets,
                    None if similar is None else _ranking(similar.hits),
                )
            )
        seen[type(c.uow_factory()).__name__] = observed
    # The same order, scores, counts, facets and "more like this" on both storages.
    first, second = seen.values()
    assert first == second, query


def _ranking(hits: list[Any]) -> list[tuple[float, str]]:
    """Hits as (score, title) in rank order; equal scores (ordered by the storage's random
    ids) compared by title."""
    ranked = [(-round(h.score, 9), h.title) for h in hits]
    assert [score for score, _ in ranked] == sorted(score for score, _ in ranked)
    return sorted(ranked)


@pytest.mark.parametrize("tuning", [Tuning(candidate_cap=4, phrase_pool_cap=2)])
async def test_a_search_ranks_a_bounded_number_of_matches(
    world: tuple,  # type: ignore[type-arg]
) -> None:
    """The caps (the container's `Tuning`: candidate_cap, phrase_pool_cap) bound how many
    matches are ranked, and how many documents holding a phrase's words are checked for its
    order."""
    c, admin, _, _ = world
    for i in range(6):
        await c.document_uploads().create_text(
            admin, f"needle haystack {i}", DocumentType.TXT, DocumentFields(title=f"n{i}")
        )
    assert len(await _titles(c, admin, "needle")) == 4
    assert len(await _titles(c, admin, '"needle haystack"')) == 2
    reversed_phrase = await c.search().search(admin, '"haystack needle"', limit=50)
    assert reversed_phrase.relaxed  # no document holds it: the words are searched instead


@pytest.mark.parametrize("tuning", [Tuning(candidate_cap=4, partial_cap=3)])
async def test_documents_holding_every_word_are_a_questions_first_candidates(
    world: tuple,  # type: ignore[type-arg]
) -> None:
    """Documents holding every word of a question are ranked whatever the cap (they are found
    first), and those holding only some words join them up to `partial_cap` candidates;
    without any document holding every word, the cap alone bounds the rest."""
    c, admin, _, _ = world
    for i in range(6):
        await c.document_uploads().create_text(
            admin, f"needle alone {i}", DocumentType.TXT, DocumentFields(title=f"n{i}")
        )
    for i in range(2):
        await c.document_uploads().create_text(
            admin, f"needle and thread {i}", DocumentType.TXT, DocumentFields(title=f"t{i}")
        )
    result = await c.search().search(admin, "needle thread", limit=50)
    titles = [hit.title for hit in result.results]
    assert result.total == 3
    assert set(titles[:2]) == {"t0", "t1"}
    assert titles[2].startswith("n")
    assert len(await _titles(c, admin, "needle spool")) == 4  # nothing holds both words
