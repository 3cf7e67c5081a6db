"""Settings validation and the opaque cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import pagination
from domain.document_ports import DocumentSort
from domain.errors import ValidationFailed
from domain.pagination import Keyset, Kind, Page, PageRequest
from domain.settings import Setting, SettingType
from domain.values import text_problem

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_known_settings_keep_their_type_and_range() -> None:
    s = Setting.define(key="trash_retention_days", value=7, now=NOW)
    assert (s.type, s.value, s.is_public) == (SettingType.INTEGER, 7, True)
    for bad in (0, 3651, "7", True, 7.5):
        with pytest.raises(ValidationFailed):
            Setting.define(key="trash_retention_days", value=bad, now=NOW)
    with pytest.raises(ValidationFailed):
        Setting.define(key="trash_retention_days", value=7, type_="string", now=NOW)


def test_a_new_setting_needs_a_type_and_a_value_of_it() -> None:
    with pytest.raises(ValidationFailed):
        Setting.define(key="theme", value="dark", now=NOW)
    with pytest.raises(ValidationFailed):
        Setting.define(key="theme", value=3, type_="string", now=NOW)
    s = Setting.define(key="theme", value="dark", type_="string", now=NOW)
    again = Setting.define(key="theme", value="light", now=NOW, previous=s)
    assert (again.type, again.is_public) == (SettingType.STRING, False)


@pytest.mark.parametrize("key", ["", "Upper", "9lives", "has space", "x" * 101, "semi;colon"])
def test_setting_keys_are_plain_lower_case_names(key: str) -> None:
    with pytest.raises(ValidationFailed):
        Setting.define(key=key, value="v", type_="string", now=NOW)


KEYSETS = [
    pagination.USERS,
    pagination.TOKENS,
    pagination.EVENTS,
    pagination.SEARCH_HISTORY,
    pagination.REVIEW_QUEUE,
    *(sort.keyset for sort in DocumentSort),
]
VALUES = {
    Kind.INSTANT: st.datetimes(timezones=st.just(UTC)),
    Kind.ID: st.uuids(),
    Kind.INT: st.integers(-(2**63) + 1, 2**63 - 1),
    Kind.TEXT: st.text().filter(lambda s: text_problem(s) is None),
}


def positions(keyset: Keyset) -> st.SearchStrategy[tuple[object, ...]]:
    return st.tuples(*(VALUES[kind] for kind in keyset.columns))


@given(st.sampled_from(KEYSETS).flatmap(lambda k: st.tuples(st.just(k), positions(k))))
def test_every_listings_cursors_round_trip(case: tuple[Keyset, tuple[object, ...]]) -> None:
    keyset, position = case
    assert keyset.decode(keyset.encode(position)) == position


def test_a_cursor_belongs_to_its_listing() -> None:
    """Users and tokens order alike, yet a users cursor is refused by the tokens listing, and
    a cursor of one sort of the documents by the others."""
    position = (NOW, uuid4())
    cursor = pagination.USERS.encode(position)
    with pytest.raises(ValidationFailed):
        pagination.TOKENS.decode(cursor)
    by_created = DocumentSort.CREATED.keyset.encode(position)
    assert DocumentSort.CREATED.keyset.decode(by_created) == position
    for other in (DocumentSort.CREATED_DESC, DocumentSort.TITLE, DocumentSort.SIZE):
        with pytest.raises(ValidationFailed):
            other.keyset.decode(by_created)


@given(st.sampled_from(KEYSETS), st.text(max_size=80))
def test_any_garbage_cursor_is_a_validation_error_not_a_crash(keyset: Keyset, raw: str) -> None:
    try:
        keyset.decode(raw)
    except ValidationFailed as err:
        assert err.errors[0].field == "cursor"


@given(st.sampled_from(KEYSETS), st.lists(st.none() | st.booleans() | st.integers() | st.text()))
def test_a_forged_cursor_with_values_of_other_kinds_is_refused(
    keyset: Keyset, values: list[object]
) -> None:
    """Well-formed JSON of the right listing, with values of any kind: decoded only when each
    value is of its column's kind, else a 422, never a value of another type."""
    raw = json.dumps([keyset.listing, *values]).encode()
    try:
        decoded = keyset.decode(base64.urlsafe_b64encode(raw).decode())
    except ValidationFailed as err:
        assert err.errors[0].field == "cursor"
        return
    assert len(decoded) == len(keyset.columns)


@pytest.mark.parametrize(
    "value",
    ["2026-01-01T00:00:00", "0001-01-01T00:00:00+14:00", 1767225600, None],
)
def test_an_instant_without_a_timezone_or_out_of_range_is_refused(value: object) -> None:
    raw = json.dumps([pagination.USERS.listing, value, str(uuid4())]).encode()
    with pytest.raises(ValidationFailed):
        pagination.USERS.decode(base64.urlsafe_b64encode(raw).decode())


def test_integers_past_a_bigint_and_booleans_are_refused() -> None:
    for value in (2**63, -(2**63) - 5, True):
        raw = json.dumps([pagination.EVENTS.listing, value]).encode()
        with pytest.raises(ValidationFailed):
            pagination.EVENTS.decode(base64.urlsafe_b64encode(raw).decode())


def test_a_page_carries_a_cursor_only_when_more_rows_follow() -> None:
    keyset = pagination.EVENTS
    assert keyset.page([3, 2, 1], 3, lambda n: (n,)) == Page([3, 2, 1], None)
    page = keyset.page([3, 2, 1], 2, lambda n: (n,))
    assert page.items == [3, 2]
    assert page.next_cursor is not None
    after = keyset.decode(page.next_cursor)
    assert after == (2,)
    assert keyset.beyond((1,), after)  # newest first: 1 comes after 2
    assert not keyset.beyond((2,), after)


@pytest.mark.parametrize("limit", [0, 201, -5])
def test_page_limits_are_one_to_two_hundred(limit: int) -> None:
    with pytest.raises(ValidationFailed):
        PageRequest(limit)
