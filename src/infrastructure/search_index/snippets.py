"""Snippets: about SNIPPET_WORDS words of a hit's text around its first match, HTML-escaped,
the query's words in <mark> — the same for both storages (`ts_headline` would re-parse the text
with a configuration that knows no stems or bigrams).

Finding the first match was most of a snippet's cost: reading a text word by word in Python
(a regular expression's match and a dictionary look-up each) up to a rare word hundreds of
words in, or through the whole of a long text (SNIPPET_CHARS) for a hit found by its title
alone. The hit's positions (what its score was computed from) say where it is instead
(`_first_by_positions`):
- no lexeme of the query in the body: no word of the text is marked for one;
- otherwise the first is the word holding the first body position: the k-th word where each
  word takes one position, found by skipping words in C (`_word_at`; Hangul and the rare
  other exceptions are counted as `analysis.analyze` counts them);
- a word marked for beginning with the word being typed (whose forms are not among the
  positions) is searched for in the text before it, in C, each find checked as the word is
  marked (`_prefixed`).
Where the positions cannot say (the last words of a very long text share one; a text that
changed since it was indexed, seen in the snippet's own words), the text is read word by word
as before (`_by_reading`). A hit's snippet went from 0.13 to 0.08 ms on the benchmark's short
texts, and from 10-16 to about 0.5 ms for a hit of a 50,000-character text found by its title
or by the word being typed (docs/benchmarks.md). The property tests of
`tests/unit/test_snippets.py` hold both ways to the definition of a marked word."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import islice
from typing import Final

from infrastructure.search_index.analysis import (
    BODY_START,
    MAX_POSITION,
    MAX_WORD_CHARS,
    split_words,
    word_tokens,
)
from infrastructure.search_index.plan import SearchPlan
from infrastructure.search_text import START, STOP, to_html

SNIPPET_WORDS: Final = 35
SNIPPET_CHARS: Final = 50_000  # what is read of a hit's text
_BEFORE: Final = SNIPPET_WORDS // 3  # words shown before the first match

_SPAN: Final = re.compile(r"[^\W_]+")  # a word, as `analysis` splits text
_HANGUL: Final = re.compile(r"[\uac00-\ud7a3]")


@lru_cache(maxsize=65_536)
def _lexemes(word: str) -> tuple[str, ...]:
    """Every lexeme a word of a text is indexed as (the same for every search: a page's
    snippets meet the same vocabulary again and again)."""
    return tuple(lex for part in split_words(word) for t in word_tokens(part) for lex in t.lexemes)


def _marks(plan_: SearchPlan, word: str) -> bool:
    lexemes = _lexemes(word)
    if not plan_.marked.isdisjoint(lexemes):
        return True
    prefix = plan_.marked_prefix
    if prefix is not None:
        for lexeme in lexemes:
            if lexeme.startswith(prefix):
                return True
    return False


def _marked(plan_: SearchPlan, word: str) -> bool:
    """`_marks`, remembered for the plan (the page's snippets share it)."""
    known = plan_.marked_words
    hit = known.get(word)
    if hit is None:
        hit = known[word] = _marks(plan_, word)
    return hit


def snippet(
    plan_: SearchPlan, content: str, hits: Mapping[str, Sequence[int]] | None = None
) -> str:
    """About SNIPPET_WORDS words of the content around its first match, HTML-escaped, matches
    in <mark>; the opening words when nothing matches (a title-only hit). `hits`: where the
    plan's lexemes stand in the document (positions as `analysis.analyze` gives them), when
    the caller has them: the first match is then found without reading the words before it."""
    text = content[:SNIPPET_CHARS]
    found = None
    if hits is not None:
        first = _first_by_positions(plan_, text, len(content) > len(text), hits)
        if first != _UNKNOWN:
            found = _window(plan_, text, first)
    if found is None:
        found = _by_reading(plan_, text)
    if not found:
        return ""
    out: list[str] = []
    cursor = found[0][0].start()
    for m, marked in found:
        begin, end = m.span()
        out.append(text[cursor:begin])
        out.append(f"{START}{m.group()}{STOP}" if marked else m.group())
        cursor = end
    return to_html("".join(out))


# A snippet's words, each with whether it is marked.
Window = list[tuple[re.Match[str], bool]]
_UNKNOWN: Final = -1


def _words(text: str, first: int | None) -> list[re.Match[str]]:
    """The snippet's words: around the text's `first` marked word, or its opening words."""
    start = 0 if first is None else max(0, first - _BEFORE)
    return list(islice(_SPAN.finditer(text), start, start + SNIPPET_WORDS))


def _window(plan_: SearchPlan, text: str, first: int | None) -> Window | None:
    """The snippet around the text's `first` marked word (None: none is), or None when the
    words before it in the snippet say otherwise (a text changed since it was indexed)."""
    if first is None:
        return [(m, False) for m in _words(text, None)]
    words = _words(text, first)
    flags = [_marked(plan_, m.group()) for m in words]
    at = first - max(0, first - _BEFORE)
    if at >= len(flags) or not flags[at] or any(flags[:at]):
        return None
    return list(zip(words, flags, strict=True))


def _first_by_positions(
    plan_: SearchPlan, text: str, cut: bool, hits: Mapping[str, Sequence[int]]
) -> int | None:
    """The index of the text's first marked word (None: no word is), or _UNKNOWN.

    Of the words marked for holding one of the query's lexemes, the first is the one holding
    the first position in the body (`_word_at`). A word marked for beginning with the word
    being typed (whose forms are not among the positions) is searched for in the text before
    it (`_prefixed`). The text read may end inside a word: that one is read as it is.
    _UNKNOWN when the first position is the last one, which a very long text's last words
    share: the text is then read word by word."""
    body: int | None = None
    for positions in hits.values():  # each sorted
        i = bisect_left(positions, BODY_START)
        if i < len(positions) and (body is None or positions[i] < body):
            body = positions[i]
    first: int | None = None
    limit = len(text)
    if body is not None:
        if body >= MAX_POSITION:
            return _UNKNOWN
        at = _word_at(text, body - BODY_START)
        if at is not None:  # else beyond the text a snippet reads
            first, limit = at[0], at[1].start()
    if plan_.marked_prefix is not None:
        before = _prefixed(plan_, text, plan_.marked_prefix, limit)
        if before is not None:
            return before
    if cut and _SPAN.match(text, len(text) - 1) is not None:
        # The text ends inside a word, which may be marked where the whole word is not (and
        # the other way round): it is read as it is.
        begin = _word_start(text, len(text) - 1)
        if first is None and _marked(plan_, text[begin:]):
            return len(_SPAN.findall(text, 0, begin))
        if first is not None and begin == limit and not _marked(plan_, text[begin:]):
            return None
    return first


def _word_start(text: str, at: int) -> int:
    """Where the word holding text[at] begins."""
    while at > 0 and _SPAN.match(text, at - 1) is not None:
        at -= 1
    return at


def _word_at(text: str, offset: int) -> tuple[int, re.Match[str]] | None:
    """The word of `text` holding body position BODY_START + offset, and its index (None:
    beyond the text). Where every word before it takes one position (no Hangul, no 'İ', no
    word too long to be indexed: checked in C), it is the offset-th word; otherwise the
    words are walked, each taking what `analysis.analyze` gives it (`_positions_taken`)."""
    word = next(islice(_SPAN.finditer(text), offset, None), None)
    end = len(text) if word is None else word.end()
    if _UNEVEN.search(text, 0, end) is None and _longest_token(text, end) <= MAX_WORD_CHARS:
        return None if word is None else (offset, word)
    position = 0
    for index, m in enumerate(_SPAN.finditer(text)):
        taken = _positions_taken(m.group())
        if position + taken > offset:
            return index, m
        position += taken
    return None


# What makes a word take other than one position: Hangul (a position per bigram, and split
# from the letters beside it) and 'İ' (whose lower case is longer).
_UNEVEN: Final = re.compile(r"[\uac00-\ud7a3\u0130]")


def _longest_token(text: str, end: int) -> int:
    """The longest run of text[:end] without white space (no word is longer)."""
    return max(map(len, text[:end].split()), default=0)


@lru_cache(maxsize=65_536)
def _positions_taken(word: str) -> int:
    """How many positions `analysis.analyze` gives a word of the text."""
    return sum(len(word_tokens(part)) for part in split_words(word))


def _prefixed(plan_: SearchPlan, text: str, prefix: str, limit: int) -> int | None:
    """The index of the first word before text[limit] marked for beginning with `prefix`:
    for a Hangul prefix, a bigram of a Hangul run beginning with it; otherwise a run of
    other letters (a word, or the part of one beside Hangul) beginning with it, in any
    case. The search finds more than those (the prefix inside a word, a Hangul run too long
    to be indexed): each is checked as the word is marked (`_marked`)."""
    for m in _prefix_pattern(prefix).finditer(text, 0, limit):
        begin = _word_start(text, m.start())
        word = _SPAN.match(text, begin)
        if word is not None and _marked(plan_, word.group()):
            return len(_SPAN.findall(text, 0, begin))
    return None


@lru_cache(maxsize=256)
def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    """Where a word marked for beginning with `prefix` may hold it."""
    if _HANGUL.match(prefix) is None:
        return re.compile(re.escape(prefix), re.IGNORECASE)
    return re.compile(re.escape(prefix))


def _by_reading(plan_: SearchPlan, text: str) -> Window:
    """The snippet around the text's first marked word, the text read word by word."""
    known = plan_.marked_words
    first = None
    for i, m in enumerate(_SPAN.finditer(text)):
        word = m.group()
        hit = known.get(word)
        if hit is None:
            hit = known[word] = _marks(plan_, word)
        if hit:
            first = i
            break
    if first is None:
        return [(m, False) for m in _words(text, None)]
    return [(m, _marked(plan_, m.group())) for m in _words(text, first)]
