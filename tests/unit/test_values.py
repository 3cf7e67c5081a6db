"""Value objects and validators of the domain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.values import AccessLevel, Role, bounded_text, normalize_email, optional_department


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob@x.io ", "bob@x.io"),
        ("first.last+tag@sub.example.org", "first.last+tag@sub.example.org"),
    ],
)
def test_emails_are_stored_lower_case_and_stripped(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "no-at-sign", "two@@example.com", "a@b", "a b@example.com", "a@-x.com", 42, None],
)
def test_invalid_emails_are_rejected_on_the_email_field(raw: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_email(raw)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "email"


def test_an_email_over_255_characters_is_rejected() -> None:
    with pytest.raises(ValidationFailed):
        normalize_email("a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".com")


@given(st.text(max_size=300))
def test_normalize_email_either_validates_or_raises_validation_failed(raw: str) -> None:
    try:
        value = normalize_email(raw)
    except ValidationFailed:
        return
    assert value == value.strip().lower() and len(value) <= 255 and value.count("@") == 1


@pytest.mark.parametrize("raw", ["x" * 101, "", "  ", "tab\there", "nul\x00"])
def test_bounded_text_refuses_overlong_empty_and_control_characters(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        bounded_text(raw, "name", 100)


def test_an_empty_department_means_none() -> None:
    assert optional_department("  ") is None
    assert optional_department(" Ops ") == "Ops"


@pytest.mark.parametrize("raw", [0, 4, -1, True, "2", 2.0])
def test_access_levels_are_integers_from_one_to_three(raw: object) -> None:
    with pytest.raises(ValidationFailed):
        AccessLevel.parse(raw)  # type: ignore[arg-type]


def test_access_level_and_role_parse_valid_values() -> None:
    assert AccessLevel.parse(3) is AccessLevel.L3
    assert Role.parse("guest") is Role.GUEST


@pytest.mark.parametrize("raw", ["root", "Admin", "", 1])
def test_unknown_roles_are_rejected(raw: object) -> None:
    with pytest.raises(ValidationFailed):
        Role.parse(raw)  # type: ignore[arg-type]
