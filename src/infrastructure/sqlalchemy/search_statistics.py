"""The statistics a search is scored with, counted in PostgreSQL: N (the documents the reader may
search) and each term's df, every count bounded (`scoring.DF_CAP`, `scoring.N_CAP`), with the
cheaper counts that settle a bound first: the clearance parts for N, the table's first rows for
a function word, the exact form of the word being typed (docs/decisions.md, "Search").
`search_repository` runs them; the candidates statements (`search_candidates`) share
`matches` and `tsquery_param`.

Every statement here is a shape: its parameters have no values (a statement is compiled once
for every search of a reader shape, `search_candidates.prepared`), and `search_values` gives
them for one search."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    false,
    func,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.types import UserDefinedType

from infrastructure.search_index import scoring
from infrastructure.search_index.analysis import STOPWORDS
from infrastructure.search_index.plan import ScoringTerm, SearchPlan
from infrastructure.sqlalchemy import tables as t
from infrastructure.tuning import Tuning

d = t.documents.c


def matches(query: ColumnElement[Any], vector: Any = d.search_vector) -> ColumnElement[bool]:
    return vector.op("@@", is_comparison=True)(query)  # type: ignore[no-any-return]


def tsquery_param(name: str) -> ColumnElement[Any]:
    return cast(bindparam(name, type_=Text), TSQUERY)


def scan_tsquery(term: ScoringTerm) -> str | None:
    """The tsquery a term is first counted by in the table's first rows
    (`first_rows_count`): an English function word's (analysis.STOPWORDS). Most English
    documents hold it, so those rows usually reach DF_CAP, and its posting list is the
    longest GIN reads (about 15 ms for a word in every one of 100,000 documents). None for
    other terms: their posting lists are the cheaper way."""
    return term.tsquery if term.lexemes and term.lexemes[0] in STOPWORDS else None


def statistics_statement(
    population: Sequence[ColumnElement[bool]],
    parts: Sequence[ColumnElement[bool]] = (),
    settled: Callable[[Any], ColumnElement[bool]] | None = None,
) -> Select[Any]:
    """(0, N) and (i, df of term i) for i = 1..terms, each count stopping at its cap. Cheaper
    counts come first where they can answer (PostgreSQL runs a CASE branch's subquery only
    when the branch is taken; each count is a lower bound of the term's, so reaching DF_CAP
    settles it):
    - `settled(cap)`, given: a condition on the bound that, when true, says every term is in
      at least that many of the population's documents (those holding every term, counted
      with the candidates: `search_candidates.counted_every_candidates`);
    - a function word is counted in the table's first rows (`scan_tsquery`);
    - the word being typed is counted without its prefix (`ScoringTerm.sure_tsquery`)."""
    x = (
        func.unnest(
            _tsqueries("term_queries"), _tsqueries("sure_queries"), _tsqueries("scan_queries")
        )
        .table_valued("q", "s", "f", with_ordinality="i")
        .render_derived(name="x", with_types=False)
    )
    cap = bindparam("df_cap", type_=Integer)
    holding = bounded_count((matches(x.c.q), *population), cap, x)
    surely = bounded_count((matches(x.c.s), *population), cap, x)
    first_rows = first_rows_count(x.c.f, population, cap, x)
    frequency = case(
        *(() if settled is None else ((settled(cap), cap),)),
        (and_(x.c.f.is_not(None), first_rows >= cap), cap),
        (and_(x.c.s.is_not(None), surely >= cap), cap),
        else_=holding,
    )
    frequencies = select(x.c.i.label("i"), frequency.label("n"))
    documents = select(
        literal_column("0", Integer).label("i"), searched_count(population, parts).label("n")
    )
    return union_all(documents, frequencies)  # type: ignore[return-value]


def statistics_values(plan: SearchPlan, tuning: Tuning) -> dict[str, Any]:
    """The values of `statistics_statement`'s parameters for a plan."""
    return {
        "term_queries": [t.tsquery for t in plan.terms],
        "sure_queries": [t.sure_tsquery for t in plan.terms],
        "scan_queries": [scan_tsquery(t) for t in plan.terms],
        "df_cap": scoring.DF_CAP,
        "n_cap": scoring.N_CAP,
        "scan_rows": tuning.scan_rows,
        "scan_vector_bytes": tuning.scan_vector_bytes,
    }


def _tsqueries(name: str) -> ColumnElement[Any]:
    return cast(bindparam(name, type_=ARRAY(Text)), ARRAY(TSQUERY))


class _Tid(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid"


_pg_class = table("pg_class", column("oid"), column("relpages"), column("reltuples"))


def first_rows_count(
    query: ColumnElement[Any], population: Sequence[ColumnElement[bool]], cap: Any, outer: Any
) -> ColumnElement[Any]:
    """How many of the table's first pages' documents (about `Tuning.scan_rows` rows, by
    the planner's rows per page; none before the table is first analyzed) are in the
    population and match `query`, counting stops at `cap`: read in page order by a TID
    range scan, not through the index. Only vectors stored whole, uncompressed and small
    (`Tuning.scan_vector_bytes`) are checked: each costs a search of a few hundred
    lexemes, where a compressed or out-of-line one would first be expanded or fetched. A
    lower bound of the population's count: when it reaches `cap`, so does that count."""
    c = _pg_class.c
    rows = bindparam("scan_rows", type_=Integer)
    pages = (
        select(
            case(
                (c.reltuples > literal_column("0"), func.ceil(rows * c.relpages / c.reltuples)),
                else_=literal_column("0"),
            )
        )
        .where(c.oid == literal_column("'documents'::regclass"))
        .scalar_subquery()
    )
    first_pages = literal_column("documents.ctid").op("<", is_comparison=True)(
        cast(func.concat(literal_column("'('"), pages, literal_column("',0)'")), _Tid())
    )
    vector = d.search_vector
    small = and_(
        func.pg_column_compression(vector).is_(None),
        func.pg_column_size(vector) <= bindparam("scan_vector_bytes", type_=Integer),
    )
    # A CASE, so that PostgreSQL checks the population and the vector's size before the
    # vector itself (it orders plain conditions by their estimated cost).
    checked = case((and_(*population, small), func.ts_match_vq(vector, query)), else_=false())
    return bounded_count((first_pages, checked), cap, outer)


def bounded_count(
    conditions: Sequence[ColumnElement[bool]], cap: Any, outer: Any = None
) -> ColumnElement[Any]:
    """How many documents meet `conditions`, counting stops at `cap`; `outer`: a FROM of the
    enclosing statement the conditions refer to (a correlated count, once per its row)."""
    rows: Select[Any] = select(literal_column("1").label("one")).where(*conditions).limit(cap)
    if outer is not None:
        rows = rows.correlate(outer)
    return select(func.count()).select_from(rows.subquery("searched")).scalar_subquery()


def searched_count(
    population: Sequence[ColumnElement[bool]], parts: Sequence[ColumnElement[bool]] = ()
) -> ColumnElement[Any]:
    """N: the documents the reader may search (passing the search's filters), up to N_CAP.
    `parts`: disjoint subsets of the population an index counts alone
    (`access.clearance_parts`); when they hold N_CAP documents between them, N is N_CAP and
    the population itself is not counted. The parts are added one at a time, so a first part
    of N_CAP documents settles N alone (PostgreSQL runs a CASE's subquery only when its
    branch is reached)."""
    cap = bindparam("n_cap", type_=Integer)
    counted = bounded_count(population, cap)
    whens: list[tuple[ColumnElement[bool], Any]] = []
    cleared: ColumnElement[Any] | None = None
    for part in parts:
        count = bounded_count((part,), cap)
        cleared = count if cleared is None else cleared + count
        whens.append((cleared >= cap, cap))
    return case(*whens, else_=counted) if whens else counted
