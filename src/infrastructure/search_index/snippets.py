"""Snippets: about SNIPPET_WORDS words of a hit's text around its first match, HTML-escaped,
the query's words in <mark> — the same for both storages (`ts_headline` would re-parse the text
with a configuration that knows no stems or bigrams)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from infrastructure.search_index.analysis import split_words, word_tokens
from infrastructure.search_index.plan import SearchPlan
from infrastructure.search_text import START, STOP, to_html

SNIPPET_WORDS: Final = 35
SNIPPET_CHARS: Final = 50_000  # what is read of a hit's text

_SPAN: Final = re.compile(r"[^\W_]+")


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


def snippet(plan_: SearchPlan, content: str) -> str:
    """About SNIPPET_WORDS words of the content around its first match, HTML-escaped, matches
    in <mark>; the opening words when nothing matches (a title-only hit)."""
    text = content[:SNIPPET_CHARS]
    spans: list[tuple[int, int, bool]] = []
    first: int | None = None
    known = plan_.marked_words
    for m in _SPAN.finditer(text):
        word = m.group()
        hit = known.get(word)
        if hit is None:
            hit = known[word] = _marks(plan_, word)
        spans.append((*m.span(), hit))
        if hit and first is None:
            first = len(spans) - 1
        if first is not None and len(spans) >= first + SNIPPET_WORDS:
            break
        if first is None and len(spans) > 4 * SNIPPET_WORDS:
            spans = spans[-SNIPPET_WORDS:]  # keep memory flat while looking
    if not spans:
        return ""
    if first is None:
        spans = _opening(text)
        start = 0
    else:
        start = max(0, first - SNIPPET_WORDS // 3)
    window = spans[start : start + SNIPPET_WORDS]
    out: list[str] = []
    cursor = window[0][0]
    for begin, end, hit in window:
        out.append(text[cursor:begin])
        out.append(f"{START}{text[begin:end]}{STOP}" if hit else text[begin:end])
        cursor = end
    return to_html("".join(out))


def _opening(text: str) -> list[tuple[int, int, bool]]:
    out: list[tuple[int, int, bool]] = []
    for m in _SPAN.finditer(text):
        out.append((m.start(), m.end(), False))
        if len(out) >= SNIPPET_WORDS:
            break
    return out
