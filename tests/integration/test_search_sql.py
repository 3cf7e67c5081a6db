"""Search specifics only PostgreSQL shows: the tsvector's 1 MB limit never breaks an upload,
PostgreSQL's own `@@` agrees with the index model the in-memory storage evaluates, and the
statistics' shortcuts (a question's counted with its candidates among them) count what
counting every document counts."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, cast, literal, select, text
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from application.context import RequestContext
from application.document_store import DocumentFields
from application.users import CreateUser
from domain.documents import DocumentType
from domain.search import parse_query
from infrastructure.config import AppSettings
from infrastructure.container import Container, build_container
from infrastructure.search_index.analysis import analyze, tsvector_literal
from infrastructure.search_index.plan import plan
from infrastructure.search_index.tsquery import Node, Slot
from infrastructure.sqlalchemy.access import clearance_parts, readable_by, terms_of
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.search_candidates import (
    counted_every_candidates,
    matching_candidates,
    search_values,
)
from infrastructure.sqlalchemy.search_statistics import (
    first_rows_count,
    scan_tsquery,
    statistics_statement,
    statistics_values,
)
from infrastructure.tuning import Tuning
from tests.conftest import truncate_all

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app(pg_database: Database, tmp_path: Path) -> Container:
    await truncate_all(pg_database.engine)
    container = build_container(
        AppSettings(storage="postgres", slow_query_ms=0, blob_dir=tmp_path), pg_database.url
    )
    container.database.override(pg_database)
    return container


def _unique_long_words(count: int) -> str:
    """Distinct ten-letter words of 4-byte UTF-8 letters (CJK Extension B): the most lexeme
    bytes a character of text can make (~3.6 per character, spaces included)."""
    letters = [chr(c) for c in range(0x20000, 0x20000 + 40)]
    words = ("".join(w) for w in itertools.product(letters, repeat=10))
    return " ".join(itertools.islice(words, count))


async def test_the_worst_text_for_a_tsvector_still_uploads_and_stays_searchable(
    app: Container,
) -> None:
    ctx = RequestContext(
        actor=await app.users().create(
            RequestContext.system(), CreateUser(email="k@example.com", name="K")
        )
    )
    text = "서문 " + _unique_long_words(40_000)  # 440k characters, ~1.6 MB of UTF-8
    doc = await app.document_uploads().create_text(
        ctx, text, DocumentType.TXT, DocumentFields(title="huge")
    )
    found = await app.search().search(ctx, "서문")
    assert [h.document_id for h in found.results] == [doc.id]
    assert len((await app.document_reads().get(ctx, doc.id)).document.content or "") == len(text)


_WORDS = [
    "alpha",
    "beta",
    "gamma",
    "검색",
    "검색을",
    "o'neil",
    "a-b",
    "x<->y",
    "invoices",
    "invoice",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.lists(
        st.one_of(
            st.sampled_from(_WORDS),
            st.lists(st.sampled_from(_WORDS), min_size=2, max_size=3).map(
                lambda w: '"' + " ".join(w) + '"'
            ),
            st.sampled_from(_WORDS).map(lambda w: "-" + w),
            st.sampled_from(["OR", "-", '"', "<2>", "!", "&", "|", "inv", "검"]),
        ),
        min_size=1,
        max_size=6,
    ).map(" ".join),
    texts=st.lists(
        st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8).map(" ".join),
        min_size=1,
        max_size=6,
    ),
)
async def test_postgresql_matches_exactly_what_the_index_model_matches(
    pg_database: Database, query: str, texts: list[str]
) -> None:
    """The tsquery text a plan sends must parse, and PostgreSQL's `@@` on the vectors the
    analyzer writes must agree with the in-memory evaluation, strict and loose; the loose
    form of a phrase query (nothing negated) loses no match."""
    parsed = parse_query(query)
    found = plan(parsed)
    nodes = [n for n in (found.match, found.loose) if n is not None]
    if found.natural:
        nodes = (
            [
                Node(
                    op="|",
                    parts=tuple(
                        Node(
                            seq=(
                                Slot(
                                    ((t.prefix, True),) * (t.prefix is not None)
                                    + tuple((lex, False) for lex in t.lexemes)
                                ),
                            )
                        )
                        for t in found.terms
                    ),
                )
            ]
            if found.terms
            else []
        )
    indexed = [analyze("", text) for text in texts]
    async with pg_database.engine.connect() as conn:
        for node in nodes:
            q = cast(literal(node.text()), TSQUERY)
            vectors = [cast(literal(tsvector_literal(ix)), TSVECTOR) for ix in indexed]
            got = (
                await conn.execute(select(*(v.op("@@", is_comparison=True)(q) for v in vectors)))
            ).one()
            assert list(got) == [node.matches(ix) for ix in indexed], (query, node.text(), texts)
    if found.match is not None and found.loose is not None:
        for ix in indexed:
            if found.match.matches(ix):
                assert found.loose.matches(ix), (query, texts)


async def test_bounded_counts_are_the_same_whichever_branch_counts_them(
    app: Container, pg_database: Database
) -> None:
    """The statistics' counts stop at their bounds (`df_cap`, `n_cap`), and two shortcuts
    may answer them:
    - a word being typed is first counted by its exact form (`ScoringTerm.sure_tsquery`);
    - N is first counted from the clearance parts.
    Both must give what counting every matching readable document gives, on either side of
    each bound."""
    owner = await app.users().create(
        RequestContext.system(), CreateUser(email="c@example.com", name="C")
    )
    ctx = RequestContext(actor=owner)
    texts = ["pogu one", "pogu two", "pogu three", "poguxy four", "poguxy five", "kutisohe"]
    for i, body in enumerate(texts):
        await app.document_uploads().create_text(
            ctx, body, DocumentType.TXT, DocumentFields(title=f"t{i}")
        )
    searched = plan(parse_query("kutisohe pogu"))
    assert [t.sure_tsquery is not None for t in searched.terms] == [False, True]
    terms = terms_of(owner)
    statement = statistics_statement(
        (readable_by(terms, include_trash=False),), clearance_parts(terms)
    )
    values = statistics_values(searched, Tuning())
    async with pg_database.engine.connect() as conn:
        for cap in range(1, 8):
            rows = (await conn.execute(statement, {**values, "df_cap": cap, "n_cap": cap})).all()
            counted = dict(rows)
            # N: 6 documents; `kutisohe`: 1; `pogu` typed: 3 exact, 5 with `poguxy`.
            assert counted == {0: min(cap, 6), 1: min(cap, 1), 2: min(cap, 5)}, cap


async def _a_reader_and_another_department(app: Container) -> tuple[RequestContext, RequestContext]:
    """The contexts of a reader in `Eng` and of a user in `Sales`, whose department's
    documents the reader may not read."""
    system = RequestContext.system()
    reader = await app.users().create(
        system, CreateUser(email="r@example.com", name="R", department="Eng")
    )
    other = await app.users().create(
        system, CreateUser(email="o@example.com", name="O", department="Sales")
    )
    return RequestContext(actor=reader), RequestContext(actor=other)


async def test_a_function_word_counted_in_the_first_rows_counts_what_its_index_counts(
    app: Container, pg_database: Database
) -> None:
    """A function word is first counted among the table's first rows (`first_rows_count`:
    a TID range scan, vectors checked one by one), and its posting list is read only when
    that count falls short of the bound. The first rows leave out what the reader may not
    read, the trash, and vectors over `Tuning.scan_vector_bytes`; both ways give the count
    of every readable document holding the word, on either side of the bound."""
    mine, theirs = await _a_reader_and_another_department(app)
    reader = mine.actor
    assert reader is not None
    uploads = app.document_uploads()
    for i in range(4):  # readable, small vectors
        await uploads.create_text(
            mine, f"the word {i}", DocumentType.TXT, DocumentFields(title=f"r{i}")
        )
    long_words = " ".join(f"w{i:04d}" for i in range(400))
    await uploads.create_text(  # readable, a vector over the bound set below
        mine, f"the {long_words}", DocumentType.TXT, DocumentFields(title="long")
    )
    trashed = await uploads.create_text(
        mine, "the trashed", DocumentType.TXT, DocumentFields(title="t")
    )
    await app.document_lifecycle().delete(mine, trashed.id)
    await uploads.create_text(  # in another department: not the reader's
        theirs, "the hidden", DocumentType.TXT, DocumentFields(title="h", department="Sales")
    )
    async with pg_database.engine.begin() as conn:
        await conn.execute(text("ANALYZE documents"))  # rows per page: the first pages' bound
        sizes = dict(
            (
                await conn.execute(
                    text("SELECT title, pg_column_size(search_vector) FROM documents")
                )
            ).all()
        )
    bound = max(v for k, v in sizes.items() if k != "long")
    assert sizes["long"] > bound
    searched = plan(parse_query('"the"'))
    (term,) = searched.terms
    assert scan_tsquery(term) is not None
    terms = terms_of(reader)
    population = (readable_by(terms, include_trash=False),)
    scanning = Tuning(scan_vector_bytes=bound)
    counted_first = select(
        first_rows_count(literal(term.tsquery, TSQUERY), population, bindparam("df_cap"), None)
    )
    statement = statistics_statement(population, ())
    tunings = {"first rows": scanning, "index only": Tuning(scan_rows=0)}
    async with pg_database.engine.connect() as conn:
        for cap in range(1, 8):
            scan = {"scan_rows": scanning.scan_rows, "scan_vector_bytes": bound, "df_cap": cap}
            first = (await conn.execute(counted_first, scan)).scalar_one()
            assert first == min(cap, 4), cap  # not the long, trashed or hidden ones
            for name, tuning in tunings.items():
                values = {**statistics_values(searched, tuning), "df_cap": cap}
                rows = dict((await conn.execute(statement, values)).all())
                assert rows[1] == min(cap, 5), (name, cap)  # the long one counts


async def test_a_question_counted_with_its_candidates_counts_what_its_statistics_count(
    app: Container, pg_database: Database
) -> None:
    """A question of several words counts its statistics in the statement that finds the
    documents holding every word (`counted_every_candidates`), and when DF_CAP of those are
    found, no word is counted alone: for every bound and candidate cap, the counts are the
    statistics statement's, and the rows after them are `matching_candidates`' rows. A word
    held only by the documents holding both (`zorba`) shows a bound settled one too early."""
    mine, theirs = await _a_reader_and_another_department(app)
    reader = mine.actor
    assert reader is not None
    uploads = app.document_uploads()
    bodies = ["zorba quint"] * 3 + ["quint alone"] * 2 + ["lorem ipsum"] * 2
    for i, body in enumerate(bodies):  # distinct texts: an upload of the same bytes is refused
        await uploads.create_text(
            mine, f"{body} n{i}", DocumentType.TXT, DocumentFields(title=f"d{i}")
        )
    trashed = await uploads.create_text(
        mine, "zorba quint", DocumentType.TXT, DocumentFields(title="t")
    )
    await app.document_lifecycle().delete(mine, trashed.id)
    await uploads.create_text(  # in another department: not the reader's
        theirs, "zorba quint", DocumentType.TXT, DocumentFields(title="h", department="Sales")
    )
    searched = plan(parse_query("zorba quint"))
    terms = terms_of(reader)
    population = (readable_by(terms, include_trash=False),)
    parts = clearance_parts(terms)
    async with pg_database.engine.connect() as conn:
        both = counted_every_candidates(population, parts)
        alone = statistics_statement(population, parts)
        every = matching_candidates(population)
        for candidate_cap in (1, 2, 3, 5):
            values = search_values(searched, Tuning(candidate_cap=candidate_cap))
            for cap in range(1, 8):
                bounds = {**values, "df_cap": cap, "n_cap": cap}
                rows = (await conn.execute(both, bounds)).all()
                counted = {r[0]: r[1] for r in rows if r[0] is not None}
                # N: 7 readable documents; `zorba`: 3; `quint` (typed: a prefix): 5.
                assert counted == {0: min(cap, 7), 1: min(cap, 3), 2: min(cap, 5)}, cap
                assert counted == dict((await conn.execute(alone, bounds)).all()), cap
                found = sorted(tuple(r)[2:] for r in rows if r[0] is None)
                assert len(found) == min(candidate_cap, 3)
                assert found == sorted(tuple(r) for r in (await conn.execute(every, bounds)).all())
