"""Full-text search: the query language, results, and the logs kept of each search.

A query without operators is a *question*: documents holding any of its meaningful words
match, ranked by how many and how rare they are. With operators it is web-search syntax:
words are ANDed, "quoted words" must appear together in order, `OR` offers alternatives,
`-word` excludes. In both, the last bare word also matches as a prefix, so results come while
typing. Words are runs of letters and digits, lower-cased, in any script; what the index makes
of them (stems, Hangul bigrams) and how it scores is the search adapters' shared model
(`infrastructure.search_index`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.errors import ValidationFailed

QUERY_MAX: Final = 1000
RESULTS_MAX: Final = 50
# A search ranks at most this many of the matching documents the reader may read, so a word
# found in half the corpus costs what 2,000 matches cost (docs/decisions.md, "Search bounds").
CANDIDATE_CAP: Final = 2000
# A query holding a phrase is first narrowed to at most this many readable documents that
# hold all of its words, and the word order is checked among those only.
PHRASE_POOL_CAP: Final = 3000
WORD: Final = re.compile(r"[^\W_]+")
_WORD: Final = WORD
_TOKEN: Final = re.compile(r'"[^"]*"?|\S+')


def words(text: str) -> list[str]:
    """The lexemes of `text` under the `simple` configuration (approximately: PostgreSQL's
    parser also knows e-mails, URLs and hyphenated compounds, which plain text rarely is)."""
    return [w.lower() for w in _WORD.findall(text)]


@dataclass(frozen=True, slots=True)
class Term:
    """One or more words that must appear consecutively; `prefix` on the last word."""

    words: tuple[str, ...]
    negated: bool = False
    prefix: bool = False
    quoted: bool = False

    @property
    def is_constraint(self) -> bool:
        """A quoted phrase or an exclusion: it must hold (a bare word only ranks)."""
        return self.quoted or self.negated


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A conjunction of alternatives: every group must match; a group matches when any of
    its terms does (a negated term matches when its words are absent)."""

    groups: tuple[tuple[Term, ...], ...]
    prefix_word: str | None  # the last bare word, searched as a prefix
    rest: str  # the query without that word
    natural: bool = False  # no quotes, OR or exclusion: a question, matched by any word

    @property
    def is_natural(self) -> bool:
        return self.natural

    @property
    def is_empty(self) -> bool:
        return not any(not t.negated for g in self.groups for t in g)

    def relaxed(self) -> ParsedQuery:
        """The query with its quotes and `OR`s read as plain words (its exclusions kept): what
        a search falls back to when the operators match nothing."""
        kept = [g for g in self.groups if g[0].negated and len(g) == 1]
        words_ = [
            Term((w,), prefix=t.prefix and w == t.words[-1])
            for g in self.groups
            if not (g[0].negated and len(g) == 1)
            for t in g
            if not t.negated
            for w in t.words
        ]
        groups = tuple(kept) + tuple((t,) for t in words_)
        return ParsedQuery(groups, self.prefix_word, self.rest, natural=not kept)

    @property
    def has_phrase(self) -> bool:
        """A quoted phrase of several words, and nothing negated: the query's matches are then
        a subset of the documents holding the same words in any order."""
        terms = [t for g in self.groups for t in g]
        return any(len(t.words) > 1 and t.quoted for t in terms) and not any(
            t.negated for t in terms
        )


def check_query(raw: str) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed.on("query", "must be a string")
    text = raw.strip()
    if not text:
        raise ValidationFailed.on("query", "must not be empty")
    if len(text) > QUERY_MAX:
        raise ValidationFailed.on("query", f"must be at most {QUERY_MAX} characters")
    if "\x00" in text:
        raise ValidationFailed.on("query", "must not contain NUL characters")
    return text


def parse_query(raw: str) -> ParsedQuery:
    """Parse web-search syntax. Operators or punctuation alone give an empty query."""
    tokens = _TOKEN.findall(check_query(raw))
    groups: list[list[Term]] = []
    pending_or = False
    natural = True
    for token in tokens:
        if token == "OR":  # noqa: S105 (the OR operator, not a secret)
            pending_or = bool(groups)
            natural = natural and not groups
            continue
        negated = token.startswith("-") and len(token) > 1
        quoted = token.startswith('"')
        if quoted or (negated and words(token[1:])):
            natural = False
        body = token[1:] if negated else token
        found = tuple(words(body))
        if not found:
            continue
        term = Term(found, negated=negated, quoted=quoted)
        if pending_or and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    prefix_word = None
    rest = " ".join(tokens)
    if tokens and groups:
        last = tokens[-1]
        before = tokens[-2] if len(tokens) > 1 else ""
        bare = _WORD.fullmatch(last) is not None and last != "OR" and before != "OR"
        if bare and len(groups[-1]) == 1 and groups[-1][0].words == (last.lower(),):
            prefix_word = last.lower()
            groups[-1] = [Term((prefix_word,), prefix=True)]
            rest = " ".join(tokens[:-1])
    if natural:  # a question's hyphenated words are words, not a phrase
        groups = [
            [Term((w,), prefix=t.prefix and w == t.words[-1])]
            for g in groups
            for t in g
            for w in t.words
        ]
    return ParsedQuery(tuple(tuple(g) for g in groups), prefix_word, rest, natural)


@dataclass(frozen=True, slots=True)
class SearchHit:
    document_id: UUID
    title: str
    document_type: str
    score: float
    snippet: str  # HTML-escaped text with matches in <mark>…</mark>


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str | None  # None: documents without a category or department
    count: int


@dataclass(frozen=True, slots=True)
class SearchFacets:
    """How the whole result set (every ranked hit, not only the page) divides, each list by
    count (descending) then value."""

    document_type: tuple[FacetCount, ...]
    category: tuple[FacetCount, ...]
    tag: tuple[FacetCount, ...]
    department: tuple[FacetCount, ...]


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of hits; `total` counts every ranked hit (at most CANDIDATE_CAP), `next_cursor`
    resumes after the page with the same statistics (so documents added meanwhile neither
    repeat nor hide a hit)."""

    hits: list[SearchHit]
    total: int
    next_cursor: str | None = None
    facets: SearchFacets | None = None


@dataclass(frozen=True, slots=True)
class SearchQueryLog:
    id: UUID
    user_id: UUID
    query: str
    session_id: str | None
    filters: dict[str, Any]
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class SearchResponseLog:
    id: UUID
    query_id: UUID
    answer: str
    sources: list[dict[str, Any]]
    result_count: int
    response_time_ms: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Feedback:
    id: UUID
    query_id: UUID
    user_id: UUID
    rating: int
    comment: str | None
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    query: SearchQueryLog
    response: SearchResponseLog | None
    feedback: Feedback | None = None


@dataclass(frozen=True, slots=True)
class SearchAnalytics:
    days: int
    queries_per_day: list[tuple[str, int]]
    top_queries: list[tuple[str, int]]
    zero_result_queries: list[tuple[str, int]]
    average_rating: float | None
    rating_histogram: dict[int, int] = field(default_factory=dict)
    p50_response_ms: float | None = None
    p95_response_ms: float | None = None
    total_queries: int = 0
