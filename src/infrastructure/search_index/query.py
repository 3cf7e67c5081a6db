"""A parsed query as the index runs it, and the score of a document for it — one model for both
storages (PostgreSQL finds and counts, this module decides; the in-memory adapter does both).

Two kinds of query (domain.search.ParsedQuery.is_natural):

- a **question** (no quotes, `OR` or `-`) matches documents holding *any* of its meaningful
  words (English function words are dropped unless nothing else is left), and ranks them by
  BM25 over the words' lexemes: an exact form, its stem class, Hangul bigrams;
- a query with **operators** keeps web-search meaning: every group must match, `"…"` is a
  phrase, `OR` an alternative, `-word` an exclusion; its matches are ranked the same way.

The score (`score`), for a document d and each term t of the query:

    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
    tf(t, d) = the positions of t's lexemes in d, each counted by its lexeme's weight (the word
               as written 1, another form of it STEM_WEIGHT) and TITLE_BOOST times in the
               title; plus PREFIX_WEIGHT when the word being typed begins a word of d
    bm25 = sum of count(t) * idf(t) * tf*(K1+1) / (tf + K1*(1 - B + B*len(d)/avglen))

times (1 + ALL_WORDS_BONUS) when every word of a question is in d, and (1 + PHRASE_BONUS) when
its words also stand together in order. N and df are counted over the documents the reader may
read that pass the search's filters (so nothing unreadable shapes a score), each count bounded
(DF_CAP, N_CAP: a word in more documents than DF_CAP weighs as if in DF_CAP); avglen is the
mean length of the documents ranked. docs/decisions.md, "Search scoring", gives the reasons and
the measurements.
"""

from __future__ import annotations

import dataclasses
import math
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, TypeVar

from domain.search import ParsedQuery, Term
from infrastructure.search_index.analysis import (
    BODY_START,
    STEM_SIGIL,
    STOPWORDS,
    IndexedText,
    bigrams,
    is_hangul,
    question_word,
    split_words,
    stem,
    word_tokens,
)

K = TypeVar("K")
K1: Final = 1.2
B: Final = 0.75
TITLE_BOOST: Final = 2.0
STEM_WEIGHT: Final = 0.85
PREFIX_WEIGHT: Final = 0.3
ALL_WORDS_BONUS: Final = 0.2
PHRASE_BONUS: Final = 0.2
# Statistics are counted up to these bounds (a count stops there): the cost of a common word
# is then that of DF_CAP documents, not of half the corpus.
DF_CAP: Final = 1000
N_CAP: Final = 5_000
# A question's candidates holding none of its rarer words (only common ones) rank below those
# holding one, mostly: at most this many of them fill the room the rarer words leave.
FILL_CAP: Final = 500


@dataclass(frozen=True, slots=True)
class ScoringTerm:
    """One word as BM25 counts it (one document frequency, one idf): its lexemes, each with
    what one position of it adds to tf (`weights`: the word as written 1, its other forms
    STEM_WEIGHT), or a Hangul bigram; for the word being typed, `prefix` also matches every
    lexeme it begins and adds `prefix_weight` to tf. `implied` lexemes need not be asked for:
    a document holding one holds another of the term (every form's `~stem` is indexed beside
    it)."""

    lexemes: tuple[str, ...]
    weights: tuple[float, ...]
    words: frozenset[int]  # the question's words this term stands for
    prefix: str | None = None
    prefix_weight: float = 0.0
    count: int = 1  # how often the query says it (a long question repeats what matters)
    implied: frozenset[str] = frozenset()

    @property
    def tsquery(self) -> str:
        parts = [f"{quote(self.prefix)}:*"] if self.prefix is not None else []
        parts += [quote(lex) for lex in self.lexemes if not self._implied(lex)]
        return " | ".join(parts)

    def _implied(self, lexeme: str) -> bool:
        return lexeme in self.implied or (
            self.prefix is not None and lexeme.startswith(self.prefix)
        )

    @property
    def asked(self) -> tuple[str, ...]:
        """The lexemes its tsquery names (besides the prefix)."""
        return tuple(lex for lex in self.lexemes if not self._implied(lex))


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One word of the query, by position: the lexeme alternatives at each position it takes
    (one for a word, one per bigram for Hangul)."""

    text: str
    slots: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class SearchPlan:
    natural: bool
    terms: tuple[ScoringTerm, ...]
    words: tuple[QueryWord, ...]  # the question's meaningful words, in order
    match: Node | None  # operators: the tsquery every hit satisfies
    loose: Node | None  # operators with a phrase: the same words in any order
    marked: frozenset[str]  # lexemes a snippet highlights
    marked_prefix: str | None

    @property
    def is_empty(self) -> bool:
        return not self.terms

    @property
    def lexemes(self) -> list[str]:
        """Every lexeme a score reads (sorted: one statement text serves all)."""
        return sorted({lex for term in self.terms for lex in term.lexemes})

    @cached_property
    def owners(self) -> dict[str, tuple[tuple[int, float], ...]]:
        """Lexeme → (index, weight) of each term counting it."""
        found: dict[str, list[tuple[int, float]]] = {}
        for i, term in enumerate(self.terms):
            for lexeme, weight in zip(term.lexemes, term.weights, strict=True):
                found.setdefault(lexeme, []).append((i, weight))
        return {lexeme: tuple(pairs) for lexeme, pairs in found.items()}

    @cached_property
    def marked_words(self) -> dict[str, bool]:
        """Word → whether a snippet marks it, filled as snippets meet words (the page's
        snippets share it)."""
        return {}

    @property
    def prefix_query(self) -> str | None:
        return next((f"{quote(t.prefix)}:*" for t in self.terms if t.prefix is not None), None)


def quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _stem_class(word: str) -> tuple[str, ...]:
    stemmed = stem(word)
    return (STEM_SIGIL + stemmed, stemmed)


def _slots(word: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(token.lexemes) for token in word_tokens(word))


@dataclass(frozen=True, slots=True)
class Slot:
    """The alternatives at one position: (lexeme, is_prefix) pairs."""

    forms: tuple[tuple[str, bool], ...]

    def text(self) -> str:
        parts = [quote(lex) + (":*" if prefix else "") for lex, prefix in self.forms]
        return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"

    def positions(self, indexed: IndexedText) -> set[int]:
        found: set[int] = set()
        for lexeme, prefix in self.forms:
            if prefix:
                for lex, at in indexed.positions.items():
                    if lex.startswith(lexeme):
                        found.update(at)
            else:
                found.update(indexed.positions.get(lexeme, ()))
        return found


@dataclass(frozen=True, slots=True)
class Node:
    """A tsquery: `seq` (slots at consecutive positions: a word, a bigram chain, a phrase),
    or `op` ("&", "|", "!") over `parts`. `text()` is what PostgreSQL runs; `matches()` is the
    same test in memory."""

    seq: tuple[Slot, ...] = ()
    op: str = ""
    parts: tuple[Node, ...] = ()

    def text(self) -> str:
        if self.seq:
            if len(self.seq) == 1:
                return self.seq[0].text()
            return "(" + " <-> ".join(s.text() for s in self.seq) + ")"
        if self.op == "!":
            return "!" + self.parts[0].text()
        inner = f" {self.op} ".join(p.text() for p in self.parts)
        return inner if len(self.parts) == 1 else "(" + inner + ")"

    def matches(self, indexed: IndexedText) -> bool:
        if self.seq:
            starts = self.seq[0].positions(indexed)
            for k, slot in enumerate(self.seq[1:], start=1):
                if not starts:
                    return False
                here = slot.positions(indexed)
                starts = {p for p in starts if p + k in here}
            return bool(starts)
        if self.op == "!":
            return not self.parts[0].matches(indexed)
        if self.op == "&":
            return all(p.matches(indexed) for p in self.parts)
        return any(p.matches(indexed) for p in self.parts)


def _word_slots(word: str, prefix: bool, exact: bool) -> tuple[Slot, ...]:
    """A single word's positions: Hangul bigrams in a row; otherwise the word, or (unless
    `exact`) any word of its stem class; `prefix` also lets it begin a longer word."""
    if not word_tokens(word):
        return ()
    if is_hangul(word):
        grams = bigrams(word)
        return tuple(Slot(((g, prefix and i == len(grams) - 1),)) for i, g in enumerate(grams))
    forms = [(word, prefix)]
    if not exact:
        forms += [(lexeme, False) for lexeme in _stem_class(word) if lexeme != word]
    return (Slot(tuple(forms)),)


def _term_node(term: Term, loose: bool) -> Node | None:
    if len(term.words) == 1:  # a quoted word is that word exactly
        slots = _word_slots(term.words[0], term.prefix, exact=term.quoted)
        node = Node(seq=slots) if slots else None
    else:
        pieces = [
            _word_slots(part, False, exact=True) for w in term.words for part in split_words(w)
        ]
        slots = tuple(s for piece in pieces for s in piece)
        if not slots:
            node = None
        elif loose:
            node = Node(op="&", parts=tuple(Node(seq=(s,)) for s in slots))
        else:
            node = Node(seq=slots)
    if node is None:
        return None
    return Node(op="!", parts=(node,)) if term.negated else node


def _is_constraint(group: Sequence[Term]) -> bool:
    return len(group) > 1 or group[0].is_constraint


def _operator_node(query: ParsedQuery, loose: bool) -> Node | None:
    """Quoted phrases, exclusions and `OR` groups must hold; bare words only rank, unless
    nothing positive is required, when a hit must hold one of them."""
    required: list[Node] = []
    for group in query.groups:
        if not _is_constraint(group):
            continue
        parts = tuple(p for p in (_term_node(t, loose) for t in group) if p is not None)
        if parts:
            required.append(parts[0] if len(parts) == 1 else Node(op="|", parts=parts))
    if all(node.op == "!" for node in required):
        bare = [
            Node(seq=slots)
            for group in query.groups
            if not _is_constraint(group)
            for term in group
            for word in term.words
            for part in split_words(word)
            if (slots := _word_slots(part, term.prefix and word == term.words[-1], exact=False))
        ]
        if not bare:
            return None
        required.append(bare[0] if len(bare) == 1 else Node(op="|", parts=tuple(bare)))
    return required[0] if len(required) == 1 else Node(op="&", parts=tuple(required))


def _word_term(word: str, index: int, prefix: bool) -> ScoringTerm:
    """An English (or other non-Hangul) word: as written (1) and its stem class (`~stem`, and
    the stem as a word: STEM_WEIGHT). Where the stem differs from the word, the word's own
    positions also hold its `~stem`, so it adds only the difference (an exact match counts 1
    per position, another form STEM_WEIGHT) and the tsquery need not name it."""
    stemmed = stem(word)
    if stemmed == word:
        lexemes: tuple[str, ...] = (word, STEM_SIGIL + word)
        weights: tuple[float, ...] = (1.0, STEM_WEIGHT)
        implied: frozenset[str] = frozenset()
    else:
        lexemes = (word, STEM_SIGIL + stemmed, stemmed)
        weights = (1.0 - STEM_WEIGHT, STEM_WEIGHT, STEM_WEIGHT)
        implied = frozenset({word})
    return ScoringTerm(
        lexemes,
        weights,
        frozenset({index}),
        prefix=word if prefix else None,
        prefix_weight=PREFIX_WEIGHT if prefix else 0.0,
        implied=implied,
    )


def _scoring_terms(
    words: Sequence[str], prefix_word: str | None
) -> tuple[tuple[ScoringTerm, ...], tuple[QueryWord, ...]]:
    meaningful = [w for w in words if w not in STOPWORDS and word_tokens(w)]
    if not meaningful:
        meaningful = [w for w in words if word_tokens(w)]
    by_key: dict[tuple[tuple[str, ...], str | None], ScoringTerm] = {}

    def add(term: ScoringTerm) -> None:
        key = (term.lexemes, term.prefix)
        known = by_key.get(key)
        if known is None:
            by_key[key] = term
        else:
            by_key[key] = dataclasses.replace(
                known, words=known.words | term.words, count=known.count + 1
            )

    qwords: list[QueryWord] = []
    seen: dict[str, int] = {}
    for word in meaningful:
        seen.setdefault(word, len(seen))
    for position, word in enumerate(meaningful):
        index = seen[word]
        qwords.append(QueryWord(word, _slots(word)))
        last = position == len(meaningful) - 1
        is_prefix = prefix_word is not None and last and word == prefix_word
        if is_hangul(word):
            grams = bigrams(word)
            for gram in grams[:-1] if is_prefix else grams:
                add(ScoringTerm((gram,), (1.0,), frozenset({index})))
            if is_prefix:
                add(ScoringTerm((), (), frozenset({index}), prefix=grams[-1], prefix_weight=1.0))
            continue
        add(_word_term(word, index, is_prefix))
    return tuple(by_key.values()), tuple(qwords)


def plan(query: ParsedQuery) -> SearchPlan:
    """The index's plan for a parsed query; an empty plan matches nothing."""
    if query.is_natural:
        words = [w for t in (g[0] for g in query.groups) for w in t.words]
        expanded = [part for w in words for part in split_words(w)]
        prefix = split_words(query.prefix_word)[-1] if query.prefix_word else None
        asked: list[str] = []
        for position, word in enumerate(expanded):
            typing = prefix is not None and position == len(expanded) - 1
            kept = word if typing else question_word(word)
            if kept is not None:
                asked.append(kept)
        terms, qwords = _scoring_terms(asked or expanded, prefix)
        match = loose = None
    else:
        positive = [w for g in query.groups for t in g if not t.negated for w in t.words]
        expanded = [part for w in positive for part in split_words(w)]
        prefix = split_words(query.prefix_word)[-1] if query.prefix_word else None
        terms, _ = _scoring_terms(expanded, prefix)
        qwords = ()
        match = _operator_node(query, loose=False)
        loose = _operator_node(query, loose=True) if query.has_phrase else None
        if match is None:
            terms = ()
    marked = frozenset(lex for t in terms for lex in t.lexemes)
    marked_prefix = next((t.prefix for t in terms if t.prefix is not None), None)
    return SearchPlan(query.is_natural, terms, qwords, match, loose, marked, marked_prefix)


# --- statistics and scores -------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a score needs of a document: where the query's lexemes stand in it, whether it
    holds the prefix term, its length."""

    hits: Mapping[str, Sequence[int]]
    prefix_hit: bool
    length: int


def term_matches(term: ScoringTerm, indexed: IndexedText) -> bool:
    """Whether a document holds the term (its tsquery, in memory)."""
    if any(lex in indexed.positions for lex in term.lexemes):
        return True
    prefix = term.prefix
    return prefix is not None and any(lex.startswith(prefix) for lex in indexed.positions)


def matches(plan_: SearchPlan, indexed: IndexedText) -> bool:
    """Whether a document is a hit, bounds aside: any term of a question, the tsquery of a
    query with operators."""
    if plan_.natural:
        return any(term_matches(term, indexed) for term in plan_.terms)
    return plan_.match is not None and plan_.match.matches(indexed)


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
        # (several times faster than the pattern, which stays for any other text).
        found: dict[str, tuple[int, ...]] = {}
        for entry in text.split(" "):
            lexeme, colon, positions = entry.rpartition(":")
            if not colon or len(lexeme) < 2 or lexeme[0] != "'" or lexeme[-1] != "'":
                break
            found[lexeme[1:-1]] = tuple(int(p.rstrip("ABCD")) for p in positions.split(","))
        else:
            return found
    return {
        m.group(1).replace("''", "'").replace("\\\\", "\\"): tuple(
            int(p.rstrip("ABCD")) for p in m.group(2).split(",")
        )
        for m in _VECTOR_ENTRY.finditer(text)
    }


def _in_order(plan_: SearchPlan, candidate: Candidate) -> bool:
    """Whether the question's words stand together, in order, somewhere in the document."""
    at: dict[int, set[str]] = {}
    for lexeme, positions in candidate.hits.items():
        for position in positions:
            at.setdefault(position, set()).add(lexeme)
    slots = [slot for word in plan_.words for slot in word.slots]
    if not slots:
        return False
    for start in sorted(p for p, found in at.items() if found & slots[0]):
        if all(at.get(start + k, set()) & slot for k, slot in enumerate(slots)):
            return True
    return False


def scorer(
    plan_: SearchPlan, stats: Statistics, mean_length: float
) -> Callable[[Candidate], float]:
    """`score` with what every candidate shares worked out once (each term's idf, the prefix
    terms, the number of distinct words): a question is scored on up to CANDIDATE_CAP
    documents."""
    weights = [
        term.count * idf(stats.documents, df)
        for term, df in zip(plan_.terms, stats.frequencies, strict=True)
    ]
    words = [term.words for term in plan_.terms]
    owners = plan_.owners
    prefixed = [(i, t.prefix_weight) for i, t in enumerate(plan_.terms) if t.prefix is not None]
    distinct = len({word.text for word in plan_.words})
    bonus = plan_.natural and distinct > 1
    k1_plus_1 = K1 + 1.0

    def scored(candidate: Candidate) -> float:
        norm = K1 * (1.0 - B + B * candidate.length / mean_length) if mean_length > 0 else K1
        # tf of each term, from the lexemes the document holds (a few) rather than from every
        # term's lexemes (a long question has dozens); positions are sorted.
        tfs: dict[int, float] = {}
        for lexeme, positions in candidate.hits.items():
            title = bisect_left(positions, BODY_START)
            tf = TITLE_BOOST * title + (len(positions) - title)
            for i, weight in owners.get(lexeme, ()):
                tfs[i] = tfs.get(i, 0.0) + weight * tf
        if candidate.prefix_hit:
            for i, weight in prefixed:
                tfs[i] = tfs.get(i, 0.0) + weight
        total = 0.0
        found: set[int] = set()
        for i in sorted(tfs):
            tf = tfs[i]
            found |= words[i]
            total += weights[i] * tf * k1_plus_1 / (tf + norm)
        if bonus and len(found) == distinct:
            total *= 1.0 + ALL_WORDS_BONUS
            if _in_order(plan_, candidate):
                total *= 1.0 + PHRASE_BONUS
        return total

    return scored


def score(plan_: SearchPlan, stats: Statistics, candidate: Candidate, mean_length: float) -> float:
    return scorer(plan_, stats, mean_length)(candidate)


def mean_length(candidates: Mapping[Any, Candidate]) -> float:
    """The mean length of the candidates (what a length is compared with)."""
    if not candidates:
        return 0.0
    return sum(c.length for c in candidates.values()) / len(candidates)


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
    scored = scorer(plan_, stats, mean)
    return {key: scored(c) for key, c in candidates.items()}
