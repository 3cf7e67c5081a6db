"""Entities: API tokens and users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.tokens import LAST_USED_RESOLUTION, ApiToken, hash_secret, looks_like_token
from domain.users import User, UserChanges

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _token(ttl: timedelta = timedelta(days=1)) -> tuple[ApiToken, str]:
    owner = User.register(email="o@example.com", name="O", now=NOW)
    return ApiToken.issue(user_id=owner.id, name="ci", now=NOW, ttl=ttl)


def test_a_token_stores_only_the_hash_and_a_short_prefix_of_its_secret() -> None:
    token, secret = _token()
    assert token.token_hash == hash_secret(secret) and len(token.token_hash) == 64
    assert secret.startswith(token.prefix) and len(token.prefix) <= 16
    assert secret not in repr(token).replace(token.prefix, "")
    assert looks_like_token(secret)


def test_secrets_are_unique() -> None:
    assert len({_token()[1] for _ in range(50)}) == 50


def test_a_token_expires_at_its_expiry_instant() -> None:
    token, _ = _token(timedelta(hours=1))
    assert token.is_usable(NOW + timedelta(minutes=59))
    assert token.is_expired(NOW + timedelta(hours=1))
    assert not token.is_usable(NOW + timedelta(hours=1))


def test_a_revoked_token_is_unusable_and_revoking_again_changes_nothing() -> None:
    token, _ = _token()
    assert token.revoke(NOW)
    assert not token.revoke(NOW + timedelta(seconds=5))
    assert token.revoked_at == NOW and not token.is_usable(NOW)


def test_last_used_is_refreshed_only_after_the_resolution() -> None:
    token, _ = _token()
    assert token.needs_touch(NOW)
    token.last_used_at = NOW
    assert not token.needs_touch(NOW + LAST_USED_RESOLUTION - timedelta(seconds=1))
    assert token.needs_touch(NOW + LAST_USED_RESOLUTION)


@pytest.mark.parametrize(
    "secret",
    ["", "Bearer", "arv_short", "xyz_" + "a" * 40, "arv_" + "a" * 40 + "!", "arv_" + "a" * 300],
)
def test_malformed_secrets_are_recognised_before_any_lookup(secret: str) -> None:
    assert not looks_like_token(secret)


def test_applying_changes_reports_only_real_changes_and_bumps_updated_at() -> None:
    user = User.register(email="u@example.com", name="U", now=NOW)
    later = NOW + timedelta(hours=1)
    changed = user.apply(UserChanges({"name": "U", "department": "Ops", "role": "admin"}), later)
    assert changed == {"department": "Ops", "role": "admin"}
    assert user.updated_at == later and user.is_admin
    assert user.apply(UserChanges({"name": "U"}), later + timedelta(hours=1)) == {}
    assert user.updated_at == later


@pytest.mark.parametrize(
    "changes",
    [
        {"name": None},
        {"email": None},
        {"is_active": "no"},
        {"access_level": 9},
        {"id": "x"},
        {"name": 3},
    ],
)
def test_invalid_changes_are_validation_errors(changes: dict[str, object]) -> None:
    user = User.register(email="u@example.com", name="U", now=NOW)
    with pytest.raises(ValidationFailed):
        user.apply(UserChanges(changes), NOW)


def test_users_are_equal_by_identity_only() -> None:
    a = User.register(email="same@example.com", name="A", now=NOW)
    b = User.register(email="same@example.com", name="A", now=NOW)
    assert a != b and a == a


@given(st.text(alphabet=st.sampled_from(["a", "Z", "0", "-", "_", "é", "٣", "!", " ", "\x00"])))
def test_the_shape_check_is_letters_digits_dashes_and_underscores_after_the_scheme(
    tail: str,
) -> None:
    """The rule stated character by character, against the check as written."""
    secret = "arv_" + tail
    by_character = 20 <= len(secret) <= 200 and all(ch.isalnum() or ch in "-_" for ch in tail)
    assert looks_like_token(secret) == by_character
