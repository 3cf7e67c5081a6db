"""Text analysis for search: what a document's words become in the index, for both storages.

A document's title and content are cut into words (runs of letters and digits, lower-cased),
and each word into *lexemes*, the units the index holds and a query looks up:

- a word in Hangul becomes its character bigrams (`계약서를` → `계약 약서 서를`; a word of one
  syllable stays whole), so a particle or an ending never hides the word: `계약서` finds
  `계약서를` wherever it stands. Bigrams need no dictionary and were measured against a
  morphological analyzer (docs/decisions.md, "Search analysis");
- any other word is kept as written (`invoices`), and when its English Snowball stem differs,
  also as the stem under a `~` sigil (`~invoic`), so `invoice`, `invoices` and `invoicing` meet
  on `~invoic` while the exact form still scores apart. Words in other scripts pass through the
  stemmer unchanged and so keep plain word matching.

Positions are PostgreSQL's: title words from 1, content words from BODY_START (so a phrase never
spans the two, and the scorer tells title from content by position), clamped at 16,383, at most
256 per lexeme. `IndexedText` is exactly what the `search_vector` column stores
(`tsvector_literal`), so the in-memory adapter scores the same numbers PostgreSQL returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import snowballstemmer

# Only the first SEARCH_TEXT_CHARS characters of the content are indexed: a tsvector cannot
# exceed 1 MB and a longer document must still upload (docs/decisions.md).
SEARCH_TEXT_CHARS: Final = 200_000
# Title words take positions 1..BODY_START-1 (a longer title shares the last one).
BODY_START: Final = 256
MAX_POSITION: Final = 16_383  # PostgreSQL's bound (WordEntryPos)
MAX_POSITIONS_PER_LEXEME: Final = 256  # PostgreSQL's MAXNUMPOS
MAX_WORD_CHARS: Final = 100  # longer "words" (hashes, base64) are not indexed
STEM_SIGIL: Final = "~"

_WORD: Final = re.compile(r"[^\W_]+")
_HANGUL: Final = re.compile(r"[\uac00-\ud7a3]+")
_STEMMER: Final = snowballstemmer.stemmer("english")

# English function words: skipped in a question's words (they rank nothing), still indexed
# as words so that a quoted phrase can hold them. Snowball's English stop list.
STOPWORDS: Final = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


# Korean question words and question endings: dropped from, and cut off, the Hangul words of a
# question (never from documents), as the English function words are. Bigrams of `무엇인가요`
# otherwise match every passage that asks a question of its own. Chosen on the MS MARCO Korean
# translation (docs/decisions.md, "Search analysis costs"), not on a held-out set.
KOREAN_QUESTION_WORDS: Final = frozenset(
    [
        "무엇",
        "무엇인가요",
        "무엇인가",
        "무엇입니까",
        "무엇을",
        "무엇이",
        "어떻게",
        "어떤",
        "언제",
        "어디",
        "어디에",
        "어디에서",
        "누구",
        "누가",
        "왜",
        "얼마나",
        "얼마",
        "몇",
    ]
)
KOREAN_QUESTION_ENDINGS: Final = tuple(
    sorted(
        [
            "인가요",
            "인가",
            "입니까",
            "습니까",
            "나요",
            "가요",
            "까요",
            "이란",
            "란",
            "인지",
            "는지",
            "은지",
        ],
        key=len,
        reverse=True,
    )
)


def question_word(word: str) -> str | None:
    """A question's word as searched: None for a Korean question word, a Hangul word without
    its question ending, any other word as it is."""
    if not is_hangul(word):
        return word
    if word in KOREAN_QUESTION_WORDS:
        return None
    for ending in KOREAN_QUESTION_ENDINGS:
        if len(word) > len(ending) and word.endswith(ending):
            return word[: -len(ending)]
    return word


def is_hangul(word: str) -> bool:
    return _HANGUL.fullmatch(word) is not None


def split_words(text: str) -> list[str]:
    """Lower-cased words, Hangul runs split from other letters (`rag를` → `rag`, `를`)."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        token = match.group().lower()
        if not _HANGUL.search(token) or is_hangul(token):
            out.append(token)
            continue
        start = 0
        for run in _HANGUL.finditer(token):
            if run.start() > start:
                out.append(token[start : run.start()])
            out.append(run.group())
            start = run.end()
        if start < len(token):
            out.append(token[start:])
    return out


def bigrams(word: str) -> list[str]:
    """A Hangul word's character bigrams, or the word itself when it is one syllable."""
    if len(word) < 2:
        return [word]
    return [word[i : i + 2] for i in range(len(word) - 1)]


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The word's English Snowball stem (the word itself for other scripts)."""
    return str(_STEMMER.stemWord(word))


def stem_lexeme(word: str) -> str | None:
    """`~stem` when the stem differs from the word, else None (the word stands for it)."""
    stemmed = stem(word)
    return STEM_SIGIL + stemmed if stemmed != word else None


@dataclass(frozen=True, slots=True)
class Token:
    """One position's worth of a word: the lexemes indexed at that position."""

    word: str
    lexemes: tuple[str, ...]


def word_tokens(word: str) -> list[Token]:
    """The positions a word takes: one per bigram for Hangul, one otherwise."""
    if len(word) > MAX_WORD_CHARS:
        return []
    if is_hangul(word):
        return [Token(word, (gram,)) for gram in bigrams(word)]
    stemmed = stem_lexeme(word)
    return [Token(word, (word,) if stemmed is None else (word, stemmed))]


@dataclass(frozen=True, slots=True)
class IndexedText:
    """A document as the index holds it: lexeme → its positions (sorted, unique, bounded)."""

    positions: dict[str, tuple[int, ...]]

    @property
    def length(self) -> int:
        """The document's length as the scorer counts it: its distinct lexemes (PostgreSQL's
        `length(tsvector)`, read without unpacking the vector)."""
        return len(self.positions)


def analyze(title: str, content: str | None) -> IndexedText:
    """What `search_vector` holds for a document (`word_tokens` per word, inlined: this runs
    on every upload and was measured 1.5-2.4x faster so)."""
    found: dict[str, list[int]] = {}

    def put(lexeme: str, at: int) -> None:
        seen = found.get(lexeme)
        if seen is None:
            found[lexeme] = [at]
        elif seen[-1] != at and len(seen) < MAX_POSITIONS_PER_LEXEME:
            seen.append(at)

    def index(text: str, first: int, last: int) -> None:
        position = first
        for word in split_words(text):
            if len(word) > MAX_WORD_CHARS:
                continue
            if _HANGUL.fullmatch(word) is not None:
                for gram in bigrams(word):
                    put(gram, position if position < last else last)
                    position += 1
                continue
            at = position if position < last else last
            put(word, at)
            stemmed = stem(word)
            if stemmed != word:
                put(STEM_SIGIL + stemmed, at)
            position += 1

    index(title, 1, BODY_START - 1)
    index((content or "")[:SEARCH_TEXT_CHARS], BODY_START, MAX_POSITION)
    return IndexedText({lexeme: tuple(p) for lexeme, p in found.items()})


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(indexed: IndexedText) -> str:
    """The tsvector's text form (cast with `::tsvector`, no parser involved)."""
    return " ".join(
        f"{_quote(lexeme)}:{','.join(map(str, positions))}"
        for lexeme, positions in indexed.positions.items()
    )


def document_vector(title: str, content: str | None) -> str:
    return tsvector_literal(analyze(title, content))
