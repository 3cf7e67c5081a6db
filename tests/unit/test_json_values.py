"""The bounds on what clients store: JSON values (`check_json_value`), text PostgreSQL can
hold (`check_text`), instants every storage can compare (`check_instant`), and how a value
stored before the bounds is shown (`clip_json_value`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.values import (
    JSON_INT_MAX,
    JSON_INT_MIN,
    JSON_KEY_MAX,
    JSON_MAX_BYTES,
    JSON_MAX_DEPTH,
    JSON_MAX_ITEMS,
    JSON_STRING_MAX,
    check_instant,
    check_json_value,
    check_text,
    clip_json_value,
    json_value_problem,
)


def nested(depth: int, leaf: Any = None) -> Any:
    """`depth` levels of containers, alternating objects and arrays."""
    value: Any = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def refused(value: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check_json_value(value, "metadata")
    (error,) = caught.value.errors
    assert error.field == "metadata"
    return error.message


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -1.5,
        "text",
        {},
        [],
        {"author": "Ada", "pages": 12, "tags": ["a", "b"], "draft": False, "score": None},
        nested(JSON_MAX_DEPTH),
        {f"k{i}": i for i in range(JSON_MAX_ITEMS)},
        {"s": "x" * JSON_STRING_MAX},
        {"k" * JSON_KEY_MAX: 1},
        {"min": JSON_INT_MIN, "max": JSON_INT_MAX},
        {"korean": "한국어 문서", "emoji": "🙂"},
    ],
    ids=repr,
)
def test_plain_json_within_the_bounds_is_returned_unchanged(value: Any) -> None:
    assert check_json_value(value, "metadata") is value


# --- refused ----------------------------------------------------------------------------------


def test_one_level_deeper_than_the_bound_is_refused() -> None:
    assert "nest" in refused(nested(JSON_MAX_DEPTH + 1))


@pytest.mark.parametrize("depth", [300, 1_000, 100_000])
def test_any_depth_is_refused_without_exhausting_the_stack(depth: int) -> None:
    assert "nest" in refused(nested(depth))


def test_too_many_keys_and_items_in_total_are_refused() -> None:
    assert "keys and items" in refused({"a": list(range(600)), "b": list(range(600))})


def test_too_long_a_string_or_key_is_refused() -> None:
    assert "strings" in refused({"s": "x" * (JSON_STRING_MAX + 1)})
    assert "keys" in refused({"k" * (JSON_KEY_MAX + 1): 1})


def test_an_encoding_over_the_byte_bound_is_refused() -> None:
    # Under every other bound: 900 strings of 100 multi-byte characters.
    value = {f"k{i}": "é" * 100 for i in range(900)}
    assert len(json.dumps(value, ensure_ascii=False).encode()) > JSON_MAX_BYTES
    assert "bytes" in refused(value)


@pytest.mark.parametrize(
    "value",
    [{"s": "a\x00b"}, {"a\x00": 1}, ["\ud800"], {"\udfff": 1}],
    ids=["NUL value", "NUL key", "lone surrogate", "surrogate key"],
)
def test_text_postgresql_cannot_store_is_refused(value: Any) -> None:
    refused(value)


@pytest.mark.parametrize(
    "value",
    [{"n": JSON_INT_MAX + 1}, {"n": JSON_INT_MIN - 1}, {"n": 10**5000}],
    ids=["past bigint", "below bigint", "5000 digits"],
)
def test_integers_outside_a_bigint_are_refused(value: Any) -> None:
    assert "integers" in refused(value)


@pytest.mark.parametrize("number", [1e20, -1e20, 1.7e113, 2.0**63, -(2.0**64)])
def test_numbers_written_as_floats_are_held_to_the_same_range(number: float) -> None:
    # 1e20 is the integer 10**20 to JSON Schema: the OpenAPI document states one range.
    assert "numbers" in refused({"n": number})


def test_floats_within_the_range_are_accepted() -> None:
    value = {"a": 2.0**62, "b": -(2.0**63), "c": 1e-300, "d": 3.5}
    assert check_json_value(value, "metadata") is value


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_numbers_that_are_not_finite_are_refused(number: float) -> None:
    assert "finite" in refused({"n": number})


@pytest.mark.parametrize(
    "value", [{"s": {1, 2}}, {"b": b"bytes"}, {1: "int key"}, {"d": datetime.now(UTC)}]
)
def test_values_that_are_not_plain_json_are_refused(value: Any) -> None:
    refused(value)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=40,
    )
)
def test_the_check_never_raises_anything_but_validation_failed(value: Any) -> None:
    problem = json_value_problem(value)
    if problem is None:
        # Accepted values survive a round trip through JSON text.
        assert json.loads(json.dumps(value, allow_nan=False)) == value


# --- text and instants ------------------------------------------------------------------------


def test_text_with_nul_or_a_lone_surrogate_is_refused_naming_the_field() -> None:
    assert check_text("plain 한국어", "title") == "plain 한국어"
    for bad in ("a\x00b", "\ud800"):
        with pytest.raises(ValidationFailed) as caught:
            check_text(bad, "title")
        assert caught.value.errors[0].field == "title"


@pytest.mark.parametrize(
    "instant",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    ],
    ids=["past year 9999 in UTC", "before year 1 in UTC"],
)
def test_instants_that_overflow_in_utc_are_refused(instant: datetime) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_instant(instant, "created_after")
    assert caught.value.errors[0].field == "created_after"


def test_instants_need_an_offset_and_are_kept_as_given() -> None:
    with pytest.raises(ValidationFailed):
        check_instant(datetime(2024, 1, 1), "since")
    edge = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert check_instant(edge, "since") is edge


# --- showing what is already stored -----------------------------------------------------------


def test_values_within_the_depth_are_shown_unchanged() -> None:
    value = {"a": nested(JSON_MAX_DEPTH - 1, "leaf")}
    assert clip_json_value(value) is value


@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 300, 5_000])
def test_deeper_values_are_shown_cut_at_the_bound(depth: int) -> None:
    value = {"kept": "yes", "deep": nested(depth - 1, "leaf")}
    shown = clip_json_value(value)
    assert shown["kept"] == "yes"
    assert depth_of(shown) == JSON_MAX_DEPTH
    assert json.loads(json.dumps(shown)) == shown
