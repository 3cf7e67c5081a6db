"""The tsquery of a query with operators as a tree, one meaning for both storages: `Node.text()`
is what PostgreSQL runs, `Node.matches()` the same test in memory. `quote` is how every tsquery
the index writes quotes a lexeme."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.search import ParsedQuery, Term
from infrastructure.search_index.analysis import (
    STEM_SIGIL,
    IndexedText,
    bigrams,
    is_hangul,
    split_words,
    stem,
    word_tokens,
)


def quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _stem_class(word: str) -> tuple[str, ...]:
    stemmed = stem(word)
    return (STEM_SIGIL + stemmed, stemmed)


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


def operator_node(query: ParsedQuery, loose: bool) -> Node | None:
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
