"""The candidates statements of a search (`search_repository` runs them): the documents a
query's scores are computed on, at most CANDIDATE_CAP, each with where the query's lexemes
stand in it (`ts_filter(setweight(…))`: the vector cut down to them), its length and whether it
holds the prefix being typed. `search_repository`'s docstring says which statement a query
runs; `search_statistics` counts N and the dfs."""

from __future__ import annotations

from collections.abc import Sequence
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

from infrastructure.search_index import scoring
from infrastructure.search_index.plan import SearchPlan
from infrastructure.sqlalchemy import tables as t
from infrastructure.sqlalchemy.search_statistics import (
    matches,
    searched_count,
    statistics_statement,
    tsquery_param,
)
from infrastructure.tuning import Tuning

d = t.documents.c
_MARK: Final[ColumnElement[Any]] = literal_column("'A'")
_MARKED: Final[ColumnElement[Any]] = literal_column("'{a}'")


def _candidate_columns(plan: SearchPlan, source: Any = t.documents) -> list[ColumnElement[Any]]:
    """Per candidate: id, length, where the query's lexemes stand (the vector cut down to
    them) and whether it holds the prefix; of `documents` or of a subquery of its columns.
    (A hit's title and type are read with its text, for the page only.)"""
    vector = source.c.search_vector
    lexemes = bindparam("lexemes", plan.lexemes, type_=ARRAY(Text))
    restricted = func.ts_filter(func.setweight(vector, _MARK, lexemes), _MARKED)
    return [
        source.c.id,
        func.length(vector).label("length"),
        cast(restricted, Text).label("hits"),
        func.coalesce(
            matches(tsquery_param("prefix_query", plan.prefix_query), vector), false()
        ).label("prefix_hit"),
    ]


def _candidate_cap(tuning: Tuning) -> ColumnElement[Any]:
    return bindparam("candidate_cap", tuning.candidate_cap, type_=Integer)


def one_term_candidates(
    plan: SearchPlan,
    population: Sequence[ColumnElement[bool]],
    parts: Sequence[ColumnElement[bool]],
    tuning: Tuning,
) -> Select[Any]:
    """A question of one term (a single word, its last letters a prefix being typed): the
    documents holding it, at most CANDIDATE_CAP, each row also carrying N. These are the
    documents the term's df counts, so the df is their number (CANDIDATE_CAP >= DF_CAP) and
    the search needs no statistics statement: one scan of the term's documents, not two."""
    (term,) = plan.terms
    cap = _candidate_cap(tuning)
    return (
        select(*_candidate_columns(plan), searched_count(population, parts).label("documents"))
        .where(matches(tsquery_param("term_query", term.tsquery)), *population)
        .limit(cap)
    )


def every_candidates(
    plan: SearchPlan, population: Sequence[ColumnElement[bool]], tuning: Tuning
) -> Select[Any]:
    """A question's first candidates: the documents holding every one of its terms, at most
    CANDIDATE_CAP (`scoring.every_query`; a question of several terms)."""
    every = tsquery_param("every_query", scoring.every_query(plan))
    cap = _candidate_cap(tuning)
    return select(*_candidate_columns(plan)).where(matches(every), *population).limit(cap)


def counted_every_candidates(
    plan: SearchPlan,
    population: Sequence[ColumnElement[bool]],
    parts: Sequence[ColumnElement[bool]],
    tuning: Tuning,
) -> Select[Any]:
    """`every_candidates` and the statistics (`statistics_statement`) in one statement, for a
    question's first page: rows (i, n, NULL…) of the counts, then rows (NULL, NULL, candidate
    columns…). The candidates are counted first: when DF_CAP of them hold every term, every
    term's df is DF_CAP and none is counted alone (the costliest questions, two common words
    found together in thousands of documents, are the ones this settles)."""
    every = every_candidates(plan, population, tuning).cte("every")
    holding = select(func.count()).select_from(every).scalar_subquery()
    counts = statistics_statement(
        plan, population, parts, tuning, settled=lambda cap: holding >= cap
    ).subquery("counts")
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


def partial_candidates(
    plan: SearchPlan,
    population: Sequence[ColumnElement[bool]],
    asked: scoring.QuestionQueries,
    limits: tuple[int, int],
) -> Select[Any]:
    """A question's candidates beside those holding every term (`every_candidates`): the
    documents holding its core (rarest) terms but not every term, and those holding only its
    common ones, as many as `limits` (`scoring.partial_limits`) says."""
    core_limit, fill_limit = limits
    every_q = tsquery_param("every_query", asked.every)
    core_q = tsquery_param("core_query", asked.core)
    core = (
        select(*_candidate_columns(plan))
        .where(matches(core_q), not_(func.coalesce(matches(every_q), false())), *population)
        .limit(bindparam("core_limit", core_limit, type_=Integer))
    )
    rest = (
        select(*_candidate_columns(plan))
        .where(matches(tsquery_param("fill_query", asked.fill)), not_(matches(core_q)), *population)
        .limit(bindparam("fill_limit", fill_limit, type_=Integer))
    )
    return union_all(core, rest)  # type: ignore[return-value]


def operator_candidates(
    plan: SearchPlan, population: Sequence[ColumnElement[bool]], tuning: Tuning
) -> Select[Any]:
    """Documents matching the tsquery, at most CANDIDATE_CAP; a phrase is checked among at
    most PHRASE_POOL_CAP documents holding its words in any order (a phrase of common words
    otherwise rechecks positions in most of the corpus before the cap applies), in the same
    scan (the pool's rows carry their vectors: no second visit of each by its id)."""
    assert plan.match is not None
    match = tsquery_param("match_query", plan.match.text())
    cap = _candidate_cap(tuning)
    if plan.loose is None:
        return select(*_candidate_columns(plan)).where(matches(match), *population).limit(cap)
    pool = (
        select(d.id, d.search_vector)
        .where(matches(tsquery_param("loose_query", plan.loose.text())), *population)
        .limit(bindparam("pool_cap", tuning.phrase_pool_cap, type_=Integer))
        .subquery("pool")
    )
    return (
        select(*_candidate_columns(plan, pool))
        .where(matches(match, pool.c.search_vector))
        .limit(cap)
    )
