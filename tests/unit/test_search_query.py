"""The query language (domain.search) and the index model (infrastructure.search_index) without
storage: parsing, what words become, which documents match and how they rank."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from domain.search import Term, parse_query
from infrastructure.search_index.analysis import analyze, question_word, split_words
from infrastructure.search_index.plan import STEM_WEIGHT, matches, plan, term_matches
from infrastructure.search_index.scoring import (
    FILL_CAP,
    PARTIAL_CAP,
    Candidate,
    Scorer,
    Statistics,
    fill_room,
    parse_hits,
    partial_limits,
    question_queries,
    rank,
    restrict,
)

WORDS = ["alpha", "beta", "gamma", "검색"]


def _ranked(query: str, docs: dict[str, tuple[str, str]]) -> list[str]:
    """Titles in rank order, counting over `docs` as a search would."""
    found = plan(parse_query(query))
    indexed = {name: analyze(*doc) for name, doc in docs.items()}
    hits = {n: ix for n, ix in indexed.items() if matches(found, ix)}
    stats = Statistics(
        len(indexed),
        tuple(sum(1 for ix in indexed.values() if term_matches(t, ix)) for t in found.terms),
    )
    scores = rank(found, stats, {n: restrict(ix, found) for n, ix in hits.items()})
    return sorted((str(n) for n in scores), key=lambda n: (-scores[n], n))


def test_a_question_matches_any_of_its_meaningful_words() -> None:
    docs = {
        "a": ("", "retrieval of aeroelastic models"),
        "b": ("", "the damping of the structure"),
        "c": ("", "cooking at home"),
    }
    assert set(_ranked("How do aeroelastic models use damping?", docs)) == {"a", "b"}
    assert _ranked("what is the", docs) == ["b"]  # function words alone are still words


def test_plural_and_verb_forms_are_found_and_the_exact_form_ranks_first() -> None:
    docs = {
        "exact": ("", "invoices are paid monthly"),
        "stem": ("", "an invoice is paid monthly"),
        "verb": ("", "invoicing runs monthly"),
    }
    assert _ranked("invoices", docs)[0] == "exact"
    assert set(_ranked("invoices", docs)) == {"exact", "stem", "verb"}
    assert _ranked("invoice", docs)[0] == "stem"
    assert set(_ranked("running", {"r": ("", "she runs"), "s": ("", "a run")})) == {"r", "s"}


def test_korean_words_are_found_with_particles_and_endings_anywhere_in_the_query() -> None:
    docs = {"contract": ("", "계약서를 검토했습니다"), "other": ("", "회의록입니다")}
    for query in ("계약서", "계약서 검토", "검토 계약서", "계약서가 있나요", "계약서는 어디"):
        assert _ranked(query, docs)[0] == "contract", query
    assert split_words("RAG를 쓰는 법") == ["rag", "를", "쓰는", "법"]


def test_title_words_rank_above_the_same_words_in_the_text() -> None:
    docs = {"in text": ("notes", "budget for the year"), "in title": ("budget", "for the year")}
    assert _ranked("budget", docs)[0] == "in title"


def test_all_words_and_the_phrase_rank_higher() -> None:
    docs = {
        "phrase": ("", "vector search engines and more filler words here"),
        "apart": ("", "search engines over a vector of filler words here"),
        "one": ("", "vector filler words only and nothing else here"),
    }
    assert _ranked("vector search", docs) == ["phrase", "apart", "one"]


def test_operators_keep_their_meaning() -> None:
    docs = {
        "vs": ("", "vector search"),
        "sv": ("", "search the vector"),
        "legacy": ("", "legacy vector files"),
        "kimchi": ("", "kimchi stew"),
    }
    assert set(_ranked('"vector search"', docs)) == {"vs"}
    assert set(_ranked("vector -legacy", docs)) == {"vs", "sv"}
    assert set(_ranked("kimchi OR legacy", docs)) == {"kimchi", "legacy"}
    assert set(_ranked('"vector search" kimchi', docs)) == {"vs"}  # bare words only rank
    assert set(_ranked('"vectors"', docs)) == set()  # a quoted word is exact


def test_a_question_and_an_operator_query_are_told_apart() -> None:
    assert parse_query("how to use RAG?").is_natural
    assert parse_query("e-mail setup").is_natural
    assert not parse_query('"e-mail" setup').is_natural
    assert not parse_query("mail -spam").is_natural
    assert not parse_query("mail OR post").is_natural
    relaxed = parse_query('"vector search" OR x -legacy').relaxed()
    assert [g[0].words for g in relaxed.groups] == [("legacy",), ("vector",), ("search",), ("x",)]
    assert relaxed.groups[0][0].negated and not relaxed.is_natural


def test_the_last_bare_word_is_a_prefix() -> None:
    parsed = parse_query("alpha bet")
    assert parsed.groups == ((Term(("alpha",)),), (Term(("bet",), prefix=True),))
    assert parsed.prefix_word == "bet"
    docs = {"m": ("", "machine learning"), "o": ("", "other")}
    assert _ranked("machine lear", docs) == ["m"]
    assert _ranked("lear", docs) == ["m"]
    assert _ranked("한국어 문", {"k": ("", "한국어 문서"), "o": ("", "other")}) == ["k"]


def test_a_phrase_without_negation_has_a_loose_first_pass() -> None:
    assert parse_query('"alpha beta"').has_phrase
    assert parse_query('"alpha beta" OR gamma').has_phrase
    assert not parse_query("alpha beta").has_phrase
    assert not parse_query('"alpha beta" -gamma').has_phrase  # negation flips the superset
    assert not parse_query('"alpha"').has_phrase


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
    found = plan(parse_query(" ".join(tokens)))
    indexed = analyze(" ".join(title), " ".join(text))
    if found.loose is not None and found.match is not None and found.match.matches(indexed):
        assert found.loose.matches(indexed)


def test_korean_question_words_and_endings_do_not_match_other_questions() -> None:
    docs = {
        "answer": ("배치 파일", "배치 파일은 명령을 차례로 실행하는 파일입니다."),
        "another question": ("", "무엇인가요? 언제 어디서 누구인가요?"),
    }
    assert _ranked("배치 파일이란 무엇인가요?", docs) == ["answer"]
    assert question_word("무엇인가요") is None
    assert question_word("파일이란") == "파일"
    assert question_word("invoices") == "invoices"


def test_a_word_is_one_term_counted_once_with_its_forms() -> None:
    """An English word is one BM25 term (one count, one idf): its exact form and its stem
    class, its tsquery naming only what a document must hold (the exact form implies its
    `~stem`); the word being typed also matches as a prefix."""
    (term,) = plan(parse_query("invoices?")).terms
    assert term.lexemes == ("invoices", "~invoic", "invoic")
    assert term.weights == (1 - STEM_WEIGHT, STEM_WEIGHT, STEM_WEIGHT)  # exact: 1 a position
    assert term.tsquery == "'~invoic' | 'invoic'" and term.prefix is None
    (typed,) = plan(parse_query("invoices")).terms
    assert typed.prefix == "invoices" and typed.tsquery == "'invoices':* | '~invoic' | 'invoic'"
    (same,) = plan(parse_query("run?")).terms  # the word is its own stem
    assert same.lexemes == ("run", "~run") and same.tsquery == "'run' | '~run'"
    for query, text in (
        ("invoices?", "invoices paid"),
        ("invoices?", "an invoice"),
        ("invoices", "invoicesxyz"),
        ("run?", "she runs"),
    ):
        ix = analyze("", text)
        found = plan(parse_query(query))
        assert term_matches(found.terms[0], ix), (query, text)


def test_an_exact_form_counts_one_per_position_and_another_form_less() -> None:
    found = plan(parse_query("invoices?"))
    stats = Statistics(10, (3,))
    texts = {"e": "invoices invoices paid", "b": "invoices invoice", "o": "invoice invoice paid"}
    indexed = {k: analyze("", text) for k, text in texts.items()}
    assert len({ix.length for ix in indexed.values()}) == 1  # the same length each
    scores = rank(found, stats, {k: restrict(ix, found) for k, ix in indexed.items()})
    exact, both, other = scores, scores, scores
    assert exact["e"] > both["b"] > other["o"] > 0


_lexeme = st.text(alphabet=st.sampled_from("ab:' \\~가1"), min_size=1, max_size=6)


@given(
    entries=st.dictionaries(
        _lexeme,
        st.lists(st.integers(1, 16383), min_size=1, max_size=4, unique=True).map(sorted),
        max_size=5,
    ),
    weights=st.lists(st.sampled_from(["A", "A", "B", "C", ""]), min_size=4, max_size=4),
    shared=st.booleans(),
)
def test_parsing_a_restricted_vector_reads_back_what_was_written(
    entries: dict[str, list[int]], weights: list[str], shared: bool
) -> None:
    """`parse_hits` (its quick path and the pattern) reads PostgreSQL's text form of any
    lexemes, quotes, colons, spaces and backslashes included, positions of any weight (D is
    written without a letter), and lexemes standing at the same positions (a word and its
    `~stem`: the quick path reads such positions once)."""

    def quoted(lex: str) -> str:
        return "'" + lex.replace("\\", "\\\\").replace("'", "''") + "'"

    if shared and entries:
        first = next(iter(entries.values()))
        entries = dict.fromkeys(entries, first)
    text = " ".join(
        f"{quoted(lex)}:{','.join(f'{p}{weights[i]}' for i, p in enumerate(at))}"
        for lex, at in entries.items()
    )
    assert parse_hits(text) == {lex: tuple(at) for lex, at in entries.items()}


def test_a_questions_fill_is_bounded() -> None:
    """Documents holding only a question's common words join its candidates in what the rarer
    words leave of the cap, at most FILL_CAP of them."""
    stats = Statistics(5000, (10, 1000, 1000))
    assert fill_room(stats, [0], 2000) == FILL_CAP
    assert fill_room(stats, [0], 300) == 290
    assert fill_room(stats, [0, 1], 1000) == 0


def test_documents_holding_every_word_come_first_and_bound_the_rest() -> None:
    """A question of several words asks first for the documents holding all of them; when
    some do, those holding only some join them up to PARTIAL_CAP candidates in all (the fill
    no more than the core);
    when none does, the core and the fill keep their bounds."""
    two = plan(parse_query("aeroelastic damping"))
    asked = question_queries(two, Statistics(5000, (30, 1000)), 2000)
    assert asked is not None
    assert asked.every is not None
    assert asked.every.count("&") == 1
    # A term no document holds: nothing holds every term, so the conjunction is not asked.
    missing = question_queries(two, Statistics(5000, (0, 1000)), 2000)
    assert missing is not None
    assert missing.every is None
    one = question_queries(plan(parse_query("damping")), Statistics(5000, (1000,)), 2000)
    assert one is not None
    assert one.every is None
    assert partial_limits(0, 2000, 500) == (2000, 500)
    assert partial_limits(10, 2000, 500) == (PARTIAL_CAP - 10, PARTIAL_CAP - 10)
    assert partial_limits(PARTIAL_CAP, 2000, 500) == (0, 0)
    assert partial_limits(10, 100, 500) == (90, 90)
    assert partial_limits(10, 2000, 40) == (PARTIAL_CAP - 10, 40)


@given(
    asked=st.lists(
        st.sampled_from(["invoices", "paid", "the", "검색", "report", "rep"]), min_size=1
    ),
    ending=st.sampled_from(["", " ", "?"]),
    held=st.dictionaries(
        st.sampled_from(["invoices", "~invoic", "paid", "the", "검색", "report", "o'neil", "x"]),
        # Around the title's end (BODY_START), where neighbours make phrases, and anywhere.
        st.lists(
            st.one_of(st.integers(250, 262), st.integers(1, 16383)),
            min_size=1,
            max_size=6,
            unique=True,
        ).map(sorted),
        max_size=5,
    ),
    prefix_hit=st.booleans(),
    length=st.integers(1, 500),
)
@example(["invoices", "paid"], " ", {"invoices": [300], "paid": [301]}, False, 9)  # a phrase
def test_a_candidate_scores_the_same_from_the_text_of_its_hits(
    asked: list[str], ending: str, held: dict[str, list[int]], prefix_hit: bool, length: int
) -> None:
    """`Scorer.text` (the SQL adapter's rows, read without building their hits) gives what
    `Scorer.candidate` gives for the hits the text parses to, to the last bit: any lexemes,
    positions in the title and in the body, a quoted lexeme (parsed), the phrase bonus."""
    found = plan(parse_query(" ".join(asked) + ending))
    if found.is_empty:
        return
    text = " ".join(
        "'" + lex.replace("'", "''") + "':" + ",".join(f"{p}A" for p in at)
        for lex, at in held.items()
    )
    scorer = Scorer(found, Statistics(1000, tuple(7 for _ in found.terms)), 120.0)
    expected = scorer.candidate(Candidate(parse_hits(text), prefix_hit, length))
    assert scorer.text(text, prefix_hit, length) == expected
