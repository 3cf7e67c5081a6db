"""The statements of a search (`search_repository` runs them): the candidates a query's scores
are computed on, at most CANDIDATE_CAP, each with where the query's lexemes stand in it
(`ts_filter(setweight(…))`: the vector cut down to them), its length and whether it holds the
prefix being typed; then the page's contents and its facets. `search_repository`'s docstring
says which statement a query runs; `search_statistics` counts N and the dfs.

Each statement is a shape whose parameters have no values: the reader's terms are parameters
too (`access.parameters_of`), so one statement serves every search of a reader shape, compiled
once and run on the driver (`prepared`, a `PreparedStatement`: SQLAlchemy's statement
building, cache key and result rows cost 4-12 ms a search, docs/benchmarks.md). A search with
filters adds their conditions (which carry their values) and runs through SQLAlchemy with the
same values (`search_values`). A value left bound into a prepared statement would serve every
later search: `PreparedStatement` refuses one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    not_,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from infrastructure.search_index import scoring, snippets
from infrastructure.search_index.plan import SearchPlan
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.access import (
    ReaderShape,
    clearance_parts,
    parameters_of,
    searchable_by,
)
from infrastructure.sqlalchemy.prepared import PreparedStatement
from infrastructure.sqlalchemy.search_statistics import (
    matches,
    searched_count,
    statistics_statement,
    statistics_values,
    tsquery_param,
)
from infrastructure.tuning import Tuning

d = t.documents.c
_MARK: Final[ColumnElement[Any]] = literal_column("'A'")
_MARKED: Final[ColumnElement[Any]] = literal_column("'{a}'")

Conditions = Sequence[ColumnElement[bool]]


def _candidate_columns(source: Any = t.documents) -> list[ColumnElement[Any]]:
    """Per candidate: id, length, where the query's lexemes stand (the vector cut down to
    them) and whether it holds the prefix; of `documents` or of a subquery of its columns.
    (A hit's title and type are read with its text, for the page only.)"""
    vector = source.c.search_vector
    lexemes = bindparam("lexemes", type_=ARRAY(Text))
    restricted = func.ts_filter(func.setweight(vector, _MARK, lexemes), _MARKED)
    return [
        source.c.id,
        func.length(vector).label("length"),
        cast(restricted, Text).label("hits"),
        func.coalesce(matches(tsquery_param("prefix_query"), vector), false()).label("prefix_hit"),
    ]


def _candidate_cap() -> ColumnElement[Any]:
    return bindparam("candidate_cap", type_=Integer)


def one_term_candidates(population: Conditions, parts: Conditions) -> Select[Any]:
    """A question of one term (a single word, its last letters a prefix being typed): the
    documents holding it, at most CANDIDATE_CAP, each row also carrying N (its 5th column).
    These are the documents the term's df counts, so the df is their number (CANDIDATE_CAP
    >= DF_CAP) and the search needs no statistics statement: one scan of the term's
    documents, not two."""
    return (
        select(*_candidate_columns(), searched_count(population, parts).label("documents"))
        .where(matches(tsquery_param("term_query")), *population)
        .limit(_candidate_cap())
    )


def matching_candidates(population: Conditions, parts: Conditions = ()) -> Select[Any]:
    """The documents matching `match_query`, at most CANDIDATE_CAP: the operators' tsquery,
    or for a question of several terms the documents holding every one (its first
    candidates, `scoring.every_query`)."""
    match = tsquery_param("match_query")
    return select(*_candidate_columns()).where(matches(match), *population).limit(_candidate_cap())


def counted_every_candidates(population: Conditions, parts: Conditions) -> Select[Any]:
    """`matching_candidates` (the documents holding every term) and the statistics
    (`statistics_statement`) in one statement, for a question's first page: rows (i, n,
    NULL…) of the counts, then rows (NULL, NULL, candidate columns…). The candidates are
    counted first: when DF_CAP of them hold every term, every term's df is DF_CAP and none is
    counted alone (the costliest questions, two common words found together in thousands of
    documents, are the ones this settles)."""
    every = matching_candidates(population).cte("every")
    holding = select(func.count()).select_from(every).scalar_subquery()
    counts = statistics_statement(population, parts, settled=lambda cap: holding >= cap).subquery(
        "counts"
    )
    nothing = (
        cast(null(), PG_UUID).label("id"),
        cast(null(), Integer).label("length"),
        cast(null(), Text).label("hits"),
        cast(null(), Boolean).label("prefix_hit"),
    )
    return union_all(
        select(counts.c.i, counts.c.n, *nothing),
        select(cast(null(), Integer), cast(null(), Integer), *every.c),
    )  # type: ignore[return-value]


def partial_candidates(population: Conditions, parts: Conditions = ()) -> Select[Any]:
    """A question's candidates beside those holding every term (`matching_candidates`): the
    documents holding its core (rarest) terms but not every term, and those holding only its
    common ones, as many as `partial_values` says (`scoring.partial_limits`)."""
    every_q = tsquery_param("every_query")
    core_q = tsquery_param("core_query")
    core = (
        select(*_candidate_columns())
        .where(matches(core_q), not_(func.coalesce(matches(every_q), false())), *population)
        .limit(bindparam("core_limit", type_=Integer))
    )
    rest = (
        select(*_candidate_columns())
        .where(matches(tsquery_param("fill_query")), not_(matches(core_q)), *population)
        .limit(bindparam("fill_limit", type_=Integer))
    )
    return union_all(core, rest)  # type: ignore[return-value]


def phrase_candidates(population: Conditions, parts: Conditions = ()) -> Select[Any]:
    """`matching_candidates` for operators with a phrase: checked among at most
    PHRASE_POOL_CAP documents holding its words in any order (a phrase of common words
    otherwise rechecks positions in most of the corpus before the cap applies), in the same
    scan (the pool's rows carry their vectors: no second visit of each by its id)."""
    pool = (
        select(d.id, d.search_vector)
        .where(matches(tsquery_param("loose_query")), *population)
        .limit(bindparam("pool_cap", type_=Integer))
        .subquery("pool")
    )
    return (
        select(*_candidate_columns(pool))
        .where(matches(tsquery_param("match_query"), pool.c.search_vector))
        .limit(_candidate_cap())
    )


def vector_statement(population: Conditions, parts: Conditions = ()) -> Select[Any]:
    """A document's vector as text, if the reader may search it ("more like this")."""
    return select(cast(d.search_vector, Text)).where(
        d.id == bindparam("document_id", type_=PG_UUID), *population
    )


# The page's ids, title, type and text (its snippets): already known readable.
PAGE: Final = PreparedStatement(
    select(
        d.id,
        d.title,
        d.document_type,
        func.left(d.content, literal_column(str(snippets.SNIPPET_CHARS), Integer)),
    ).where(d.id == func.any(bindparam("page_ids", type_=ARRAY(PG_UUID))))
)


def _tag_names() -> Any:
    return (
        select(func.array_agg(t.tags.c.name))
        .select_from(t.document_tags.join(t.tags, t.tags.c.id == t.document_tags.c.tag_id))
        .where(t.document_tags.c.document_id == d.id)
        .scalar_subquery()
    )


# (type, category, department, tags) of every hit: the facets.
FACETS: Final = PreparedStatement(
    select(d.document_type, t.categories.c.name, d.department, _tag_names())
    .select_from(t.documents.outerjoin(t.categories, t.categories.c.id == d.category_id))
    .where(d.id == func.any(bindparam("facet_ids", type_=ARRAY(PG_UUID))))
)

Build = Callable[[Conditions, Conditions], Select[Any]]


@lru_cache(maxsize=64)
def prepared(build: Build, shape: ReaderShape) -> PreparedStatement:
    """`build`'s statement for every active reader of `shape`, compiled once."""
    terms = parameters_of(shape)
    return PreparedStatement(build((searchable_by(terms),), clearance_parts(terms)))


def search_values(plan: SearchPlan, tuning: Tuning) -> dict[str, Any]:
    """The values of the statements' parameters for a search of `plan` (the reader's and, for
    a question's partial candidates, `partial_values`, are added by the caller)."""
    return {
        **statistics_values(plan, tuning),
        "lexemes": plan.lexemes,
        "prefix_query": plan.prefix_query,
        "term_query": plan.terms[0].tsquery if len(plan.terms) == 1 else None,
        "match_query": plan.match.text() if plan.match is not None else scoring.every_query(plan),
        "loose_query": plan.loose.text() if plan.loose is not None else None,
        "candidate_cap": tuning.candidate_cap,
        "pool_cap": tuning.phrase_pool_cap,
    }


def partial_values(asked: scoring.QuestionQueries, limits: tuple[int, int]) -> dict[str, Any]:
    """The values `partial_candidates` adds to `search_values`."""
    return {
        "every_query": asked.every,
        "core_query": asked.core,
        "fill_query": asked.fill,
        "core_limit": limits[0],
        "fill_limit": limits[1],
    }
