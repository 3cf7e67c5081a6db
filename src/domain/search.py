"""Full-text search: the query language, results, and the logs kept of each search.

The query language is web-search syntax, as PostgreSQL's `websearch_to_tsquery` reads it:
words are ANDed, "quoted words" must appear together in order, `OR` offers alternatives,
`-word` excludes. The last bare word also matches as a prefix, so results come while typing.
Words are what the `simple` text-search configuration makes of text: runs of letters and
digits, lower-cased, in any script (Korean included)."""

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


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A conjunction of alternatives: every group must match; a group matches when any of
    its terms does (a negated term matches when its words are absent)."""

    groups: tuple[tuple[Term, ...], ...]
    prefix_word: str | None  # the last bare word, searched as a prefix
    rest: str  # the query without that word, for websearch_to_tsquery

    @property
    def is_empty(self) -> bool:
        return not any(not t.negated for g in self.groups for t in g)

    @property
    def has_phrase(self) -> bool:
        """A term of several words, and nothing negated: the query's matches are then a
        subset of the documents holding the same words in any order."""
        terms = [t for g in self.groups for t in g]
        return any(len(t.words) > 1 for t in terms) and not any(t.negated for t in terms)


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
    for token in tokens:
        if token == "OR":  # noqa: S105 (the OR operator, not a secret)
            pending_or = bool(groups)
            continue
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated else token
        found = tuple(words(body))
        if not found:
            continue
        term = Term(found, negated=negated)
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
    return ParsedQuery(tuple(tuple(g) for g in groups), prefix_word, rest)


def _occurs(term: Term, tokens: list[str]) -> bool:
    n = len(term.words)
    for i in range(len(tokens) - n + 1):
        window = tokens[i : i + n]
        if window[:-1] == list(term.words[:-1]) and (
            window[-1].startswith(term.words[-1]) if term.prefix else window[-1] == term.words[-1]
        ):
            return True
    return False


def _all_occur(term: Term, tokens: list[str]) -> bool:
    """Every word of the term, anywhere and in any order."""
    return all(
        _occurs(Term((word,), prefix=term.prefix and i == len(term.words) - 1), tokens)
        for i, word in enumerate(term.words)
    )


def matches(query: ParsedQuery, title: str, content: str, *, in_order: bool = True) -> bool:
    """Whether a document matches (the in-memory adapter's `@@`). With `in_order=False` a
    phrase matches wherever all its words are, as its loosened tsquery does in SQL."""
    if query.is_empty:
        return False
    title_tokens, content_tokens = words(title), words(content)

    def term_hit(term: Term) -> bool:
        if in_order:
            found = _occurs(term, title_tokens) or _occurs(term, content_tokens)
        else:
            found = _all_occur(term, title_tokens + content_tokens)
        return not found if term.negated else found

    return all(any(term_hit(t) for t in group) for group in query.groups)


def score(query: ParsedQuery, title: str, content: str) -> float:
    """A simple rank: matching words in the title count ten times those in the text."""
    title_tokens, content_tokens = words(title), words(content)
    total = 0.0
    for group in query.groups:
        for term in group:
            if term.negated:
                continue
            for tokens, weight in ((title_tokens, 1.0), (content_tokens, 0.1)):
                total += weight * sum(
                    1
                    for tok in tokens
                    if (tok.startswith(term.words[-1]) if term.prefix else tok in term.words)
                )
    return total / (1.0 + len(content_tokens) / 1000.0)


@dataclass(frozen=True, slots=True)
class SearchHit:
    document_id: UUID
    title: str
    document_type: str
    score: float
    snippet: str  # HTML-escaped text with matches in <mark>…</mark>


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
