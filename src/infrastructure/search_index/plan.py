"""A parsed query as the index runs it (`plan`), one model for both storages: PostgreSQL finds
and counts, the plan and `infrastructure.search_index.scoring` decide; the in-memory adapter
does both.

Two kinds of query (domain.search.ParsedQuery.is_natural):

- a **question** (no quotes, `OR` or `-`) matches documents holding *any* of its meaningful
  words (English function words are dropped unless nothing else is left), and ranks them by
  BM25 over the words' lexemes: an exact form, its stem class, Hangul bigrams;
- a query with **operators** keeps web-search meaning: every group must match, `"…"` is a
  phrase, `OR` an alternative, `-word` an exclusion (`infrastructure.search_index.tsquery`);
  its matches are ranked the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from domain.search import ParsedQuery
from infrastructure.search_index.analysis import (
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
from infrastructure.search_index.tsquery import Node, operator_node, quote

# What one position of a lexeme adds to its term's tf (the word as written adds 1): another
# form of the word, and the word being typed beginning a longer word.
STEM_WEIGHT: Final = 0.85
PREFIX_WEIGHT: Final = 0.3


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
    def sure_tsquery(self) -> str | None:
        """For the word being typed, the word's own lexemes without the prefix: every document
        matching it holds the term, and an exact word's posting lists are read several times
        faster than a prefix's (GIN's partial match). When it alone reaches DF_CAP, so does
        the term, and the prefix need not be counted. None for other terms."""
        if self.prefix is None or not self.lexemes:
            return None
        return " | ".join(quote(lex) for lex in self.lexemes)

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
    def slots(self) -> tuple[frozenset[str], ...]:
        """The lexemes each position of the question's words may hold, in order (a phrase
        of them is in order where consecutive positions hold them)."""
        return tuple(slot for word in self.words for slot in word.slots)

    @cached_property
    def marked_words(self) -> dict[str, bool]:
        """Word → whether a snippet marks it, filled as snippets meet words (the page's
        snippets share it)."""
        return {}

    @property
    def prefix_query(self) -> str | None:
        return next((f"{quote(t.prefix)}:*" for t in self.terms if t.prefix is not None), None)


def _slots(word: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(token.lexemes) for token in word_tokens(word))


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
        match = operator_node(query, loose=False)
        loose = operator_node(query, loose=True) if query.has_phrase else None
        if match is None:
            terms = ()
    marked = frozenset(lex for t in terms for lex in t.lexemes)
    marked_prefix = next((t.prefix for t in terms if t.prefix is not None), None)
    return SearchPlan(query.is_natural, terms, qwords, match, loose, marked, marked_prefix)


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
