"""The query language (domain.search) without storage: parsing, matching and the loosened
match a phrase query's first pass uses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.search import Term, matches, parse_query

WORDS = ["alpha", "beta", "gamma", "검색"]


def test_words_are_anded_and_the_last_bare_word_is_a_prefix() -> None:
    parsed = parse_query("alpha bet")
    assert parsed.groups == (
        (Term(("alpha",)),),
        (Term(("bet",), prefix=True),),
    )
    assert parsed.prefix_word == "bet"
    assert parsed.rest == "alpha"


def test_quotes_or_and_minus() -> None:
    parsed = parse_query('"alpha beta" OR gamma -delta')
    assert parsed.groups == (
        (Term(("alpha", "beta")), Term(("gamma",))),
        (Term(("delta",), negated=True),),
    )
    assert parsed.prefix_word is None


def test_a_phrase_without_negation_has_a_loose_first_pass() -> None:
    assert parse_query('"alpha beta"').has_phrase
    assert parse_query('"alpha beta" OR gamma').has_phrase
    assert not parse_query("alpha beta").has_phrase
    assert not parse_query('"alpha beta" -gamma').has_phrase  # negation flips the superset
    assert not parse_query('"alpha"').has_phrase


def test_the_loose_match_ignores_word_order_only() -> None:
    query = parse_query('"alpha beta"')
    assert matches(query, "", "alpha beta")
    assert not matches(query, "", "beta gamma alpha")
    assert matches(query, "", "beta gamma alpha", in_order=False)
    assert matches(query, "alpha", "beta", in_order=False)  # title and text are one vector
    assert not matches(query, "", "alpha gamma", in_order=False)


def test_the_loose_match_keeps_the_prefix_on_the_last_word() -> None:
    query = parse_query('"alpha be')  # an unclosed quote: the words still form a phrase
    assert matches(query, "", "alpha beta") == matches(query, "", "alpha beta", in_order=False)


_token = st.one_of(
    st.sampled_from(WORDS),
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=3).map(lambda w: f'"{" ".join(w)}"'),
    st.just("OR"),
    st.sampled_from(WORDS).map(lambda w: w[:3]),
)


@given(
    tokens=st.lists(_token, min_size=1, max_size=5),
    title=st.lists(st.sampled_from(WORDS), max_size=3),
    text=st.lists(st.sampled_from(WORDS), max_size=8),
)
def test_a_phrase_query_matches_only_where_its_loose_form_does(
    tokens: list[str], title: list[str], text: list[str]
) -> None:
    query = parse_query(" ".join(tokens))
    if query.has_phrase and matches(query, " ".join(title), " ".join(text)):
        assert matches(query, " ".join(title), " ".join(text), in_order=False)
