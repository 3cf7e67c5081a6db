"""Pages of ranked hits, their cursors, facets and "more like this" — shared by both storages.

A cursor carries what the scores were computed with (N, each term's df, the mean length) and
the last hit's (score, id). The next page recomputes the scores with those same numbers, so
every document keeps the score it had: a document added meanwhile takes its place in the same
order and nothing already shown repeats or is skipped. A cursor names its query and filters
(a digest), and a cursor of another search is a 422 on `cursor`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from domain.errors import ValidationFailed
from domain.search import FacetCount, SearchFacets
from infrastructure.search_index.analysis import STEM_SIGIL, STOPWORDS, IndexedText
from infrastructure.search_index.plan import ScoringTerm, SearchPlan
from infrastructure.search_index.scoring import (
    DF_CAP,
    Candidate,
    Statistics,
    idf,
    mean_length,
    mean_row_length,
    rank,
    rank_rows,
)

CURSOR_VERSION: Final = 2
CURSOR_MAX: Final = 4096
# "More like this": the document's terms tried (by tf and length), and those kept (by tf·idf).
SIMILAR_TRIED: Final = 30
SIMILAR_KEPT: Final = 12


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a page ends and what its scores were computed with."""

    stats: Statistics
    mean_length: float
    score: float
    id: UUID


def search_key(plan: SearchPlan, filters: object) -> str:
    """A digest of what a search asks (its terms, match and filters)."""
    parts = [
        plan.natural,
        [(t.lexemes, t.weights, t.prefix, t.prefix_weight, t.count) for t in plan.terms],
        plan.match.text() if plan.match else None,
        repr(filters),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def encode_cursor(key: str, resume: Resume) -> str:
    body = {
        "v": CURSOR_VERSION,
        "k": key,
        "n": resume.stats.documents,
        "df": list(resume.stats.frequencies),
        "m": resume.mean_length,
        "s": resume.score,
        "i": str(resume.id),
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad(reason: str) -> ValidationFailed:
    return ValidationFailed.on("cursor", reason)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31:
        raise _bad("is not a cursor of this search")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad("is not a cursor of this search")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise _bad("is not a cursor of this search")
    return number


def decode_cursor(raw: str, key: str, terms: int) -> Resume:
    """The cursor's resume point; `ValidationFailed` on `cursor` unless it is one this search
    (same `key`, `terms` frequencies) handed out."""
    if not isinstance(raw, str) or not raw or len(raw) > CURSOR_MAX:
        raise _bad("is not a cursor of this search")
    try:
        body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as err:
        raise _bad("is not a cursor of this search") from err
    if not isinstance(body, dict) or body.get("v") != CURSOR_VERSION or body.get("k") != key:
        raise _bad("belongs to another search (query or filters differ)")
    frequencies = body.get("df")
    if not isinstance(frequencies, list) or len(frequencies) != terms:
        raise _bad("is not a cursor of this search")
    try:
        doc_id = UUID(str(body.get("i")))
    except ValueError as err:
        raise _bad("is not a cursor of this search") from err
    stats = Statistics(_count(body.get("n")), tuple(_count(f) for f in frequencies))
    return Resume(stats, _number(body.get("m")), _number(body.get("s")), doc_id)


def page_after(
    scores: Mapping[UUID, float], limit: int, after: Resume | None
) -> tuple[list[UUID], bool]:
    """The page's ids in rank order (score descending, then id), after `after`; and whether
    more follow."""
    ranked: Iterable[tuple[UUID, float]] = scores.items()
    if after is not None:
        bound = (-after.score, after.id)
        ranked = [(k, s) for k, s in ranked if (-s, k) > bound]
    # The best limit + 1 of up to CANDIDATE_CAP, without sorting them all.
    best = heapq.nsmallest(limit + 1, ranked, key=_rank_order)
    return [k for k, _ in best[:limit]], len(best) > limit


def _rank_order(item: tuple[UUID, float]) -> tuple[float, UUID]:
    return -item[1], item[0]


@dataclass(frozen=True, slots=True)
class Ranked:
    """Every candidate's score, the page's ids in rank order, and the cursor after them."""

    scores: dict[UUID, float]
    page: list[UUID]
    next_cursor: str | None


def rank_page(
    plan: SearchPlan,
    stats: Statistics,
    candidates: Mapping[UUID, Candidate],
    limit: int,
    key: str,
    resume: Resume | None,
) -> Ranked:
    """Score the candidates (with the cursor's mean length when resuming) and cut the page."""
    mean = resume.mean_length if resume else mean_length(candidates)
    return _cut(stats, rank(plan, stats, candidates, mean), mean, limit, key, resume)


def rank_rows_page(
    plan: SearchPlan,
    stats: Statistics,
    rows: Mapping[UUID, tuple[str | None, bool, int]],
    limit: int,
    key: str,
    resume: Resume | None,
) -> Ranked:
    """`rank_page` of candidates given as (text of the hits, prefix hit, length)
    (`scoring.rank_rows`)."""
    mean = resume.mean_length if resume else mean_row_length(rows)
    return _cut(stats, rank_rows(plan, stats, rows, mean), mean, limit, key, resume)


def _cut(
    stats: Statistics,
    scores: dict[UUID, float],
    mean: float,
    limit: int,
    key: str,
    resume: Resume | None,
) -> Ranked:
    page, more = page_after(scores, limit, resume)
    next_cursor = None
    if more and page:
        next_cursor = encode_cursor(key, Resume(stats, mean, scores[page[-1]], page[-1]))
    return Ranked(scores, page, next_cursor)


def facets(rows: Iterable[tuple[str, str | None, str | None, Sequence[str]]]) -> SearchFacets:
    """Facets from (type, category, department, tags) of every hit."""
    kinds: Counter[str] = Counter()
    categories: Counter[str | None] = Counter()
    departments: Counter[str | None] = Counter()
    tags: Counter[str] = Counter()
    for kind, category, department, tag_names in rows:
        kinds[kind] += 1
        categories[category] += 1
        departments[department] += 1
        tags.update(set(tag_names))
    return SearchFacets(
        _ordered(kinds), _ordered(categories), _ordered(tags), _ordered(departments)
    )


def _ordered(counts: Mapping[Any, int]) -> tuple[FacetCount, ...]:
    return tuple(
        FacetCount(value, n)
        for value, n in sorted(
            counts.items(), key=lambda kv: (-kv[1], kv[0] is None, (kv[0] or "").encode())
        )
    )


def similar_candidates(indexed: IndexedText) -> list[str]:
    """The document's lexemes worth counting for "more like this": its words as written and
    Hangul bigrams (no stems, no English function words), by occurrences then length,
    SIMILAR_TRIED of them."""
    lexemes = [
        lex
        for lex in indexed.positions
        if not lex.startswith(STEM_SIGIL) and lex not in STOPWORDS and not lex.isdigit()
    ]
    lexemes.sort(key=lambda lex: (-len(indexed.positions[lex]), -len(lex), lex))
    return lexemes[:SIMILAR_TRIED]


def similar_plan(lexemes: Sequence[str], stats: Statistics, indexed: IndexedText) -> SearchPlan:
    """A question made of the SIMILAR_KEPT lexemes weighing most in the document (tf·idf over
    what the reader may read); a lexeme only the document itself holds says nothing."""
    weighed = [
        (len(indexed.positions[lex]) * idf(stats.documents, df), lex)
        for lex, df in zip(lexemes, stats.frequencies, strict=True)
        if 1 < df < DF_CAP
    ]
    weighed.sort(key=lambda pair: (-pair[0], pair[1]))
    kept = [lex for _, lex in weighed[:SIMILAR_KEPT]]
    terms = tuple(ScoringTerm((lex,), (1.0,), frozenset({i})) for i, lex in enumerate(kept))
    return SearchPlan(
        natural=True,
        terms=terms,
        words=(),
        match=None,
        loose=None,
        marked=frozenset(kept),
        marked_prefix=None,
    )


def lexeme_plan(lexemes: Sequence[str]) -> SearchPlan:
    """A plan whose terms are single lexemes (for counting them)."""
    terms = tuple(ScoringTerm((lex,), (1.0,), frozenset({i})) for i, lex in enumerate(lexemes))
    return SearchPlan(True, terms, (), None, None, frozenset(lexemes), None)
