"""Snippets (infrastructure.search_index.snippets): the first match found from a hit's positions
is the one reading the text word by word finds, whatever the text holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.search import parse_query
from infrastructure.search_index.analysis import analyze, split_words, word_tokens
from infrastructure.search_index.plan import SearchPlan, plan
from infrastructure.search_index.scoring import restrict
from infrastructure.search_index.snippets import (
    _SPAN,
    SNIPPET_CHARS,
    SNIPPET_WORDS,
    _first_by_positions,
    snippet,
)

# Words that take one position, several (Hangul, and Hangul beside other letters), none (too
# long to be indexed), change length in lower case (İ), end in a final sigma, share a stem.
WORDS = [
    "alpha",
    "Alpha",
    "ALPHAS",
    "alphabet",
    "beta",
    "betas",
    "gamma",
    "the",
    "of",
    "검색",
    "검색을",
    "검",
    "색인",
    "rag를",
    "를rag",
    "İstanbul",
    "\u03a3\u0391\u03a3",
    "naïve",
    "2024",
    "x" * 101,
    "alpha" * 21,
]
SEPARATORS = [" ", ", ", ". ", "\n", " — ", "_", "'", "-"]
QUERY_WORDS = [
    "alpha",
    "alphas",
    "alp",
    "beta",
    "gamma",
    "the",
    "검색",
    "검",
    "색",
    "rag",
    "is",
    "\u03c3\u03b1",  # Greek, to meet a final sigma
]


def _text(words: list[str], separators: list[str]) -> str:
    return "".join(w + separators[i % len(separators)] for i, w in enumerate(words))


def _both(found: SearchPlan, title: str, content: str) -> tuple[str, str]:
    """The snippet from the positions, and the snippet from reading the text; the first
    marked word the positions give is the first by definition (`_first_marked`)."""
    hits = restrict(analyze(title, content), found).hits
    text = content[:SNIPPET_CHARS]
    first = _first_by_positions(found, text, len(content) > len(text), hits)
    assert first == _first_marked(found, text)
    return snippet(found, content, hits), snippet(found, content)


def _first_marked(found: SearchPlan, text: str) -> int | None:
    """The index of the text's first word a snippet marks, by the definition: one of its
    lexemes is the query's, or begins with the word being typed."""
    for i, m in enumerate(_SPAN.finditer(text)):
        lexemes = [
            lex for part in split_words(m.group()) for t in word_tokens(part) for lex in t.lexemes
        ]
        prefix = found.marked_prefix
        if any(lex in found.marked or (prefix and lex.startswith(prefix)) for lex in lexemes):
            return i
    return None


texts = st.builds(
    _text,
    st.lists(st.sampled_from(WORDS), max_size=80),
    st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=3),
)
queries = st.builds(
    lambda asked, form: plan(parse_query(form.format(" ".join(asked)))),
    st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3),
    st.sampled_from(["{}", "{} ", '"{}"', "{} -gamma", "{} OR beta"]),
)


@settings(max_examples=400, deadline=None)
@given(title=st.lists(st.sampled_from(WORDS), max_size=4), content=texts, found=queries)
def test_the_positions_find_the_first_marked_word(
    title: list[str], content: str, found: SearchPlan
) -> None:
    """Any text, any query (the word being typed included): the first marked word the
    positions give is the first by definition, and they always give one for a whole text."""
    if found.is_empty:
        return
    hits = restrict(analyze(" ".join(title), content), found).hits
    assert _first_by_positions(found, content, False, hits) == _first_marked(found, content)
    assert snippet(found, content, hits) == snippet(found, content)


def test_a_match_deep_in_a_long_text_and_a_title_only_hit() -> None:
    filler = "lorem ipsum dolor sit amet " * 1000  # 5,000 words
    content = filler + "the alpha report. " + filler
    found = plan(parse_query("alpha report "))
    by_positions, by_reading = _both(found, "Quarterly", content)
    assert by_positions == by_reading
    assert "<mark>alpha</mark> <mark>report</mark>" in by_positions
    # Found by its title alone: the text's opening words, nothing marked.
    only_title = plan(parse_query("quarterly "))
    by_positions, by_reading = _both(only_title, "Quarterly", content)
    assert by_positions == by_reading == " ".join(["lorem ipsum dolor sit amet"] * 7)


def test_a_word_cut_where_the_text_read_ends() -> None:
    """The last word of the text a snippet reads may be part of one (`alpha` of `alphabet`,
    `alph` of `alphas`): it is read as it is, not as the positions know the whole word."""
    for last in ("alphabet", "alphas", "betas alpha"):
        for inside in range(1, 7):
            opening = "the gamma report "
            content = opening + " " * (SNIPPET_CHARS - len(opening) - inside) + last
            for query in ("alpha", "alpha ", "alp", "beta ", '"alpha"', "alpha -gamma"):
                found = plan(parse_query(query))
                by_positions, by_reading = _both(found, "", content)
                assert by_positions == by_reading, (last, inside, query)


def test_positions_of_another_text_fall_back_to_reading() -> None:
    """Positions that do not fit the text (it changed since it was indexed) are not trusted."""
    found = plan(parse_query("beta "))
    stale = restrict(analyze("", "beta gamma"), found).hits
    content = "gamma " * 40 + "beta"
    assert snippet(found, content, stale) == snippet(found, content)
    assert snippet(found, content, stale).endswith("<mark>beta</mark>")
    assert len(snippet(found, content, stale).split()) == SNIPPET_WORDS // 3 + 1


def test_the_word_being_typed_is_found_in_any_case() -> None:
    for query, content, first in (
        ("alp", "the ALPHAS and the alpha", 1),
        ("alp", "the Alphabet", 1),
        ("\u03c3\u03b1", "the \u03a3\u0391\u03a3", 1),  # a final sigma
        ("rag", "검색을 를rag rag", 1),
        ("검", "the 색인 검색을", 2),
    ):
        found = plan(parse_query(query))
        hits = restrict(analyze("", content), found).hits
        assert _first_by_positions(found, content, False, hits) == first, (query, content)
        assert _first_marked(found, content) == first
