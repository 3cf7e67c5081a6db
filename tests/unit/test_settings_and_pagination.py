"""Settings validation and the opaque cursors."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.pagination import CreatedKey, PageRequest, SequenceKey
from domain.settings import Setting, SettingType

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


@given(st.datetimes(timezones=st.just(UTC)), st.uuids())
def test_created_cursors_round_trip(at: datetime, ident: object) -> None:
    key = CreatedKey(at, ident)  # type: ignore[arg-type]
    assert CreatedKey.decode(key.encode()) == key


@given(st.integers(1, 2**62))
def test_sequence_cursors_round_trip(n: int) -> None:
    assert SequenceKey.decode(SequenceKey(n).encode()).id == n


@given(st.text(max_size=80))
def test_any_garbage_cursor_is_a_validation_error_not_a_crash(raw: str) -> None:
    for decode in (CreatedKey.decode, SequenceKey.decode):
        try:
            decode(raw)
        except ValidationFailed as err:
            assert err.errors[0].field == "cursor"


def test_a_cursor_without_a_timezone_is_refused() -> None:
    import base64
    import json

    raw = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", str(uuid4())]).encode())
    with pytest.raises(ValidationFailed):
        CreatedKey.decode(raw.decode())


@pytest.mark.parametrize("limit", [0, 201, -5])
def test_page_limits_are_one_to_two_hundred(limit: int) -> None:
    with pytest.raises(ValidationFailed):
        PageRequest(limit)
