"""The counts a search is scored with, the candidates a question is scored on, and the score of
a document for a plan (`infrastructure.search_index.plan`) — the same numbers for both storages.

The score (`Scorer`), for a document d and each term t of the query:

    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
    tf(t, d) = the positions of t's lexemes in d, each counted by its lexeme's weight (the word
               as written 1, another form of it STEM_WEIGHT) and TITLE_BOOST times in the
               title; plus PREFIX_WEIGHT when the word being typed begins a word of d
    bm25 = sum of count(t) * idf(t) * tf*(K1+1) / (tf + K1*(1 - B + B*len(d)/avglen))

times (1 + ALL_WORDS_BONUS) when every word of a question is in d, and (1 + PHRASE_BONUS) when
its words also stand together in order. N and df are counted over the documents the reader may
read that pass the search's filters (so nothing unreadable shapes a score), each count bounded
(DF_CAP, N_CAP: a word in more documents than DF_CAP weighs as if in DF_CAP); avglen is the
mean length of the documents ranked. The lexeme weights (STEM_WEIGHT, PREFIX_WEIGHT) are the
plan's. docs/decisions.md, "Search scoring", gives the reasons and the measurements.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeVar

from infrastructure.search_index.analysis import BODY_START, IndexedText
from infrastructure.search_index.plan import SearchPlan
from infrastructure.search_index.tsquery import quote

K = TypeVar("K")
K1: Final = 1.2
B: Final = 0.75
TITLE_BOOST: Final = 2.0
ALL_WORDS_BONUS: Final = 0.2
PHRASE_BONUS: Final = 0.2
# Statistics are counted up to these bounds (a count stops there): the cost of a common word
# is then that of DF_CAP documents, not of half the corpus.
DF_CAP: Final = 1000
N_CAP: Final = 5_000
# A question's candidates holding none of its rarer words (only common ones) rank below those
# holding one, mostly: at most this many of them fill the room the rarer words leave.
FILL_CAP: Final = 500
# When some documents hold every word of a question, they are its first candidates (their
# scores carry every word's weight and ALL_WORDS_BONUS), and documents holding only some of
# the words join them up to this many candidates in all (docs/decisions.md, "Search").
PARTIAL_CAP: Final = 250


@dataclass(frozen=True, slots=True)
class Statistics:
    """Counts over the documents the reader may search: N, and df per term (plan order)."""

    documents: int
    frequencies: tuple[int, ...]


def idf(documents: int, frequency: int) -> float:
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


def retrieval_split(plan_: SearchPlan, stats: Statistics, cap: int) -> tuple[list[int], list[int]]:
    """Which terms a question's candidates are found by (`core`: the rarest, while their
    counts add up to at most `cap`; at least one) and which only fill the remaining room
    (`fill`, the common ones): a common word must not crowd out the documents holding a rare
    one when the candidates are bounded."""
    order = sorted(range(len(plan_.terms)), key=lambda i: (stats.frequencies[i], i))
    core: list[int] = []
    total = 0
    for i in order:
        df = stats.frequencies[i]
        if df == 0:
            continue
        if core and (total + df > cap or df >= DF_CAP):
            break
        core.append(i)
        total += df
    fill = [i for i in order if i not in core and stats.frequencies[i] > 0]
    return core, fill


def fill_room(stats: Statistics, core: Iterable[int], cap: int, fill_cap: int = FILL_CAP) -> int:
    """How many documents holding only the fill's (common) terms join a question's candidates:
    what the core's counts leave of `cap`, at most `fill_cap`."""
    return max(0, min(cap - sum(stats.frequencies[i] for i in core), fill_cap))


@dataclass(frozen=True, slots=True)
class QuestionQueries:
    """What a question's candidates are found by: `every` (the documents holding every term;
    None for a question of one term, or when a term is in no document), `core` (its rarest
    terms) and `fill` (only its common ones, at most `fill_limit` documents)."""

    every: str | None
    core: str
    fill: str | None
    fill_limit: int


def question_queries(
    plan_: SearchPlan, stats: Statistics, cap: int, fill_cap: int = FILL_CAP
) -> QuestionQueries | None:
    """The tsqueries of a question's candidates (None: no term is in any document)."""
    core, fill = retrieval_split(plan_, stats, cap)
    core_query = or_query(plan_, core)
    if core_query is None:
        return None
    room = fill_room(stats, core, cap, fill_cap)
    every = every_query(plan_) if all(stats.frequencies) else None
    return QuestionQueries(every, core_query, fill_query(plan_, core, fill) if room else None, room)


def every_query(plan_: SearchPlan) -> str | None:
    """The tsquery of the documents holding every term of a question (None for one term)."""
    if len(plan_.terms) < 2:
        return None
    return " & ".join(f"({term.tsquery})" for term in plan_.terms)


def partial_limits(
    holding_every: int, cap: int, fill_limit: int, partial_cap: int = PARTIAL_CAP
) -> tuple[int, int]:
    """How many documents holding the core terms but not every term, and how many holding
    only the fill's, join the `holding_every` documents holding every term: without any
    such document, `cap` and `fill_limit` (the core's and the fill's bounds); otherwise as
    many as bring the candidates to `partial_cap` (none once those holding every term are
    that many), the fill no more than the core."""
    if holding_every == 0:
        return cap, fill_limit
    core = max(0, min(cap, partial_cap) - holding_every)
    return core, min(fill_limit, core)


def or_query(plan_: SearchPlan, indexes: Iterable[int]) -> str | None:
    parts = [plan_.terms[i].tsquery for i in indexes]
    return " | ".join(f"({p})" for p in parts) if parts else None


def fill_query(plan_: SearchPlan, core: Sequence[int], fill: Sequence[int]) -> str | None:
    """The fill's tsquery without the lexemes the core already finds (a word's stem class
    holds the word itself): the documents it would add are the same (those holding a core
    lexeme are not fill), and PostgreSQL does not read every document of a core word only to
    drop it."""
    covered = {lex for i in core for lex in plan_.terms[i].lexemes}
    parts: list[str] = []
    for i in fill:
        term = plan_.terms[i]
        if term.prefix is not None:
            parts.append(f"{quote(term.prefix)}:*")
        parts += [quote(lex) for lex in term.asked if lex not in covered]
    return " | ".join(dict.fromkeys(parts)) if parts else None


class Candidate(NamedTuple):
    """What a score needs of a document: where the query's lexemes stand in it, whether it
    holds the prefix term, its length. (A named tuple: a search builds up to CANDIDATE_CAP of
    them, and a tuple is made several times faster than a frozen dataclass.)"""

    hits: Mapping[str, Sequence[int]]
    prefix_hit: bool
    length: int


def restrict(indexed: IndexedText, plan_: SearchPlan) -> Candidate:
    """The in-memory counterpart of the SQL adapter's `ts_filter(setweight(…))`."""
    hits = {lex: indexed.positions[lex] for lex in plan_.lexemes if lex in indexed.positions}
    prefix = plan_.marked_prefix
    prefix_hit = prefix is not None and any(lex.startswith(prefix) for lex in indexed.positions)
    return Candidate(hits, prefix_hit, indexed.length)


_VECTOR_ENTRY: Final = re.compile(r"'((?:[^']|'')*)':([0-9A-D,]+)")


def parse_hits(text: str) -> dict[str, tuple[int, ...]]:
    """A restricted tsvector's text form (`'lex':1A,7A …`: every position marked A by the
    `setweight` that restricted it) as lexeme → positions."""
    if "\\" not in text and "''" not in text:
        # The analyzer's lexemes hold no quote, colon, space or backslash: split directly
        # (several times faster than the pattern, which stays for any other text). A word's
        # `~stem` lexeme mostly stands where the word does: its positions are read once.
        found: dict[str, tuple[int, ...]] = {}
        read: dict[str, tuple[int, ...]] = {}
        for entry in text.split(" "):
            lexeme, colon, positions = entry.rpartition(":")
            if not colon or len(lexeme) < 2 or lexeme[0] != "'" or lexeme[-1] != "'":
                break
            numbers = read.get(positions)
            if numbers is None:
                digits = positions.replace("A", "")
                if not digits.replace(",", "").isdigit():
                    break  # another weight than A: the pattern reads it
                numbers = read[positions] = tuple(map(int, digits.split(",")))
            found[lexeme[1:-1]] = numbers
        else:
            return found
    return {
        m.group(1).replace("''", "'").replace("\\\\", "\\"): tuple(
            int(p.rstrip("ABCD")) for p in m.group(2).split(",")
        )
        for m in _VECTOR_ENTRY.finditer(text)
    }


def _in_order(plan_: SearchPlan, candidate: Candidate) -> bool:
    """Whether the question's words stand together, in order, somewhere in the document: a
    start s where position s + k holds a lexeme of the k-th word's slot, for every k (the
    starts each slot allows, intersected; a question's candidates holding every word are
    checked, up to CANDIDATE_CAP of them)."""
    slots = plan_.slots
    if not slots:
        return False
    hits = candidate.hits
    starts: set[int] | None = None
    for k, slot in enumerate(slots):
        allowed: set[int] = set()
        for lexeme in slot:
            positions = hits.get(lexeme)
            if positions:
                allowed.update([p - k for p in positions])
        starts = allowed if starts is None else starts & allowed
        if not starts:
            return False
    return True


class Scorer:
    """The score (above), with what every candidate shares worked out once (each term's
    idf, the prefix terms, the question's distinct words): a question is scored on up to
    CANDIDATE_CAP documents. A candidate is scored from its hits (`candidate`) or, as the
    SQL adapter reads it, from the text of its restricted vector (`text`, the same number: a
    property test compares them)."""

    __slots__ = (
        "_all_words",
        "_bonus",
        "_mean",
        "_ordered",
        "_owners",
        "_plan",
        "_prefixed",
        "_read",
        "_weights",
        "_words",
    )

    def __init__(self, plan_: SearchPlan, stats: Statistics, mean_length: float) -> None:
        self._plan = plan_
        self._mean = mean_length
        self._weights = [
            term.count * idf(stats.documents, df)
            for term, df in zip(plan_.terms, stats.frequencies, strict=True)
        ]
        self._owners = plan_.owners
        self._prefixed = [(i, t.prefix_weight) for i, t in enumerate(plan_.terms) if t.prefix]
        # The question's distinct words (`ScoringTerm.words` indexes them) as bits.
        self._words = [sum(1 << w for w in term.words) for term in plan_.terms]
        distinct = len({word.text for word in plan_.words})
        self._all_words = (1 << distinct) - 1
        self._bonus = plan_.natural and distinct > 1
        # Per text of hits (a page's candidates often share one): its terms' tfs, its words,
        # and whether they stand in order.
        self._read: dict[str, list[tuple[int, float]]] = {}
        self._ordered: dict[str, bool] = {}

    def candidate(self, candidate: Candidate) -> float:
        tfs = self._hits_tfs(candidate.hits)
        if candidate.prefix_hit:
            for i, weight in self._prefixed:
                tfs[i] = tfs.get(i, 0.0) + weight
        total, words = self._sum(sorted(tfs.items()), candidate.length)
        if self._bonus and words == self._all_words:
            total *= 1.0 + ALL_WORDS_BONUS
            if _in_order(self._plan, candidate):
                total *= 1.0 + PHRASE_BONUS
        return total

    def text(self, text: str, prefix_hit: bool, length: int) -> float:
        """The score of a candidate whose hits are `text`, a restricted vector's text form
        (`parse_hits`), read without building its hits: a lexeme's tf needs only how many
        positions it has and, when its first is in the title, which are."""
        items = self._read.get(text)
        if items is None:
            items = self._read[text] = self._tfs(text)
        if prefix_hit and self._prefixed:
            tfs = dict(items)
            for i, weight in self._prefixed:
                tfs[i] = tfs.get(i, 0.0) + weight
            items = sorted(tfs.items())
        total, words = self._sum(items, length)
        if self._bonus and words == self._all_words:
            total *= 1.0 + ALL_WORDS_BONUS
            ordered = self._ordered.get(text)
            if ordered is None:
                hits = Candidate(parse_hits(text), prefix_hit, length)
                ordered = self._ordered[text] = _in_order(self._plan, hits)
            if ordered:
                total *= 1.0 + PHRASE_BONUS
        return total

    def _hits_tfs(self, hits: Mapping[str, Sequence[int]]) -> dict[int, float]:
        """Each term's tf, from the lexemes the document holds (a few) rather than from every
        term's lexemes (a long question has dozens); positions are sorted."""
        owners = self._owners
        tfs: dict[int, float] = {}
        for lexeme, positions in hits.items():
            title = bisect_left(positions, BODY_START)
            tf = TITLE_BOOST * title + (len(positions) - title)
            for i, weight in owners.get(lexeme, ()):
                tfs[i] = tfs.get(i, 0.0) + weight * tf
        return tfs

    def _tfs(self, text: str) -> list[tuple[int, float]]:
        """(term, tf) of the terms a text of hits holds, in term order."""
        if "\\" in text or "''" in text:  # quoted or escaped lexemes: parsed
            return sorted(self._hits_tfs(parse_hits(text)).items())
        owners = self._owners
        tfs: dict[int, float] = {}
        if text:
            for entry in text.split(" "):
                lexeme, _, positions = entry.rpartition(":")
                owned = owners.get(lexeme[1:-1])
                if not owned:
                    continue
                # Every position is marked A (`setweight`), the first is the lowest.
                if int(positions[: positions.index("A")]) >= BODY_START:
                    tf = float(positions.count(",") + 1)
                else:
                    at = [int(p) for p in positions.replace("A", "").split(",")]
                    title = bisect_left(at, BODY_START)
                    tf = TITLE_BOOST * title + (len(at) - title)
                for i, weight in owned:
                    tfs[i] = tfs.get(i, 0.0) + weight * tf
        return sorted(tfs.items())

    def _sum(self, items: list[tuple[int, float]], length: int) -> tuple[float, int]:
        """The BM25 sum over the terms' (term, tf), in term order; the bits of their words."""
        mean = self._mean
        norm = K1 * (1.0 - B + B * length / mean) if mean > 0 else K1
        weights = self._weights
        words = self._words
        k1_plus_1 = K1 + 1.0
        total = 0.0
        found = 0
        for i, tf in items:
            found |= words[i]
            total += weights[i] * tf * k1_plus_1 / (tf + norm)
        return total, found


def mean_length(candidates: Mapping[Any, Candidate]) -> float:
    """The mean length of the candidates (what a length is compared with)."""
    if not candidates:
        return 0.0
    return sum(c.length for c in candidates.values()) / len(candidates)


def mean_row_length(rows: Mapping[Any, tuple[str | None, bool, int]]) -> float:
    """`mean_length` of candidates given as (text of the hits, prefix hit, length)."""
    if not rows:
        return 0.0
    return sum(r[2] for r in rows.values()) / len(rows)


def rank(
    plan_: SearchPlan,
    stats: Statistics,
    candidates: Mapping[K, Candidate],
    mean: float | None = None,
) -> dict[K, float]:
    """Every candidate's score; the mean length is the candidates' unless given (a cursor
    carries the first page's)."""
    if mean is None:
        mean = mean_length(candidates)
    scored = Scorer(plan_, stats, mean).candidate
    return {key: scored(c) for key, c in candidates.items()}


def rank_rows(
    plan_: SearchPlan,
    stats: Statistics,
    rows: Mapping[K, tuple[str | None, bool, int]],
    mean: float | None = None,
) -> dict[K, float]:
    """`rank` of candidates given as (text of the hits, prefix hit, length): the SQL
    adapter's rows, scored without building each one's hits (`Scorer.text`)."""
    if mean is None:
        mean = mean_row_length(rows)
    scored = Scorer(plan_, stats, mean).text
    return {key: scored(r[0] or "", bool(r[1]), r[2]) for key, r in rows.items()}
