"""The password policy, session expiry and set-password links (domain rules), and the argon2id
adapter of the `PasswordHasher` port."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.common_passwords import COMMON_PASSWORDS
from domain.errors import ValidationFailed
from domain.passwords import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PasswordLink,
    StoredPassword,
    check_password,
    hash_link_secret,
    is_common_password,
    looks_like_link_secret,
)
from domain.sessions import (
    TOUCH_RESOLUTION,
    SessionLifetime,
    UserSession,
    hash_session_secret,
    looks_like_session_secret,
)
from infrastructure.passwords import Argon2Parameters, Argon2PasswordHasher

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EMAIL = "Grace.Hopper@example.com"
GOOD = "violet staple orbit 42"
LIFETIME = SessionLifetime(idle=timedelta(hours=2), absolute=timedelta(days=7))
FAST = Argon2Parameters(time_cost=1, memory_kib=8, parallelism=1)


def refusal(password: str, email: str = EMAIL, field_name: str = "password") -> str:
    with pytest.raises(ValidationFailed) as caught:
        check_password(password, email, field_name)
    [error] = caught.value.errors
    assert error.field == field_name
    return error.message


# --- the policy -----------------------------------------------------------------------------


def test_a_long_uncommon_password_without_the_email_is_accepted() -> None:
    assert check_password(GOOD, EMAIL) == GOOD


def test_a_password_is_at_least_12_characters() -> None:
    assert refusal("v1olet-stap") == f"must be at least {PASSWORD_MIN} characters"
    assert check_password("v1olet-stapl", EMAIL) == "v1olet-stapl"


def test_a_password_is_at_most_1024_characters() -> None:
    assert refusal("x7" * 513) == f"must be at most {PASSWORD_MAX} characters"
    assert check_password("x7" * 512, EMAIL)


@pytest.mark.parametrize(
    "password",
    [
        "grace.hopper@example.com!",  # the whole address
        "my GRACE.HOPPER@EXAMPLE.COM",  # in any case
        "Grace.Hopper-rocks-2026",  # the local part
        "xx grace.hopperxx yy",
    ],
)
def test_a_password_must_not_contain_the_email_or_its_local_part(password: str) -> None:
    assert refusal(password) == "must not contain your e-mail address or its name"


def test_a_local_part_too_short_to_mean_anything_is_not_looked_for() -> None:
    assert check_password("jo likes violet staples", "jo@example.com")
    assert refusal("jo@example.com is me", "jo@example.com").startswith("must not contain")


@pytest.mark.parametrize(
    "password",
    [
        "123456789012",
        "qwertyuiopasdfghjkl",
        "PasswordPassword",  # any case
        "Password2024!",  # a common base with digits and symbols added
        "!!football12345",
        "1qaz2wsx3edc",
        "iloveyou iloveyou".replace(" ", ""),
        "Archivist12345",
    ],
)
def test_a_common_password_is_refused(password: str) -> None:
    assert refusal(password).startswith("is too common")


def test_a_common_word_inside_a_longer_passphrase_is_fine() -> None:
    assert not is_common_password("password manager of mine")
    assert check_password("my dragon has 3 heads", EMAIL)


def test_the_built_in_list_holds_a_few_hundred_lower_case_entries() -> None:
    assert 300 <= len(COMMON_PASSWORDS) <= 2000
    assert all(word == word.lower() and word.strip() == word for word in COMMON_PASSWORDS)


@pytest.mark.parametrize("bad", ["nul\x00 in the middle", "lone \ud800 surrogate!"])
def test_a_password_must_be_storable_text(bad: str) -> None:
    assert refusal(bad)


def test_the_refusal_names_the_field_it_is_given() -> None:
    assert refusal("short", field_name="new_password").startswith("must be at least")


@given(st.text(max_size=PASSWORD_MIN - 1))
def test_every_password_shorter_than_12_is_refused(password: str) -> None:
    with pytest.raises(ValidationFailed):
        check_password(password, EMAIL)


@given(st.text(min_size=PASSWORD_MIN, max_size=40))
def test_an_accepted_password_never_contains_the_address(password: str) -> None:
    try:
        check_password(password, EMAIL)
    except ValidationFailed:
        return
    assert "grace.hopper" not in password.casefold()


def test_a_stored_password_never_shows_its_hash() -> None:
    stored = StoredPassword(uuid.uuid4(), "$argon2id$v=19$secret-digest", NOW)
    assert "secret-digest" not in repr(stored)


# --- sessions -------------------------------------------------------------------------------


def _session(lifetime: SessionLifetime = LIFETIME) -> tuple[UserSession, str]:
    return UserSession.start(
        user_id=uuid.uuid4(),
        now=NOW,
        lifetime=lifetime,
        client_ip="2001:db8::1",
        user_agent="Firefox",
    )


def test_a_session_keeps_only_the_hash_of_its_secret() -> None:
    session, secret = _session()
    assert looks_like_session_secret(secret)
    assert session.secret_hash == hash_session_secret(secret)
    assert secret not in repr(session) and session.csrf_secret not in repr(session)
    assert len(session.csrf_secret) >= 32


def test_a_session_expires_when_idle_for_the_idle_lifetime() -> None:
    session, _ = _session()
    assert not session.is_expired(NOW + timedelta(hours=2) - timedelta(seconds=1))
    assert session.is_expired(NOW + timedelta(hours=2))


def test_using_a_session_moves_its_idle_deadline_but_never_past_its_absolute_end() -> None:
    session, _ = _session()
    later = NOW + timedelta(days=7) - timedelta(hours=1)
    session.touch(NOW + timedelta(hours=1), LIFETIME)
    assert session.idle_expires_at == NOW + timedelta(hours=3)
    session.touch(later, LIFETIME)
    assert session.idle_expires_at == session.expires_at == NOW + timedelta(days=7)
    assert session.is_expired(NOW + timedelta(days=7))


def test_a_session_used_all_the_time_still_ends_at_its_absolute_lifetime() -> None:
    session, _ = _session()
    at = NOW
    while at < NOW + timedelta(days=7):
        assert not session.is_expired(at)
        session.touch(at, LIFETIME)
        at += timedelta(minutes=30)
    assert session.is_expired(NOW + timedelta(days=7))


def test_a_short_absolute_lifetime_caps_the_first_idle_deadline() -> None:
    session, _ = _session(SessionLifetime(idle=timedelta(hours=2), absolute=timedelta(hours=1)))
    assert session.idle_expires_at == session.expires_at == NOW + timedelta(hours=1)
    assert session.ends_at == NOW + timedelta(hours=1)


def test_a_session_is_touched_at_most_once_per_resolution() -> None:
    session, _ = _session()
    assert not session.needs_touch(NOW + TOUCH_RESOLUTION - timedelta(seconds=1))
    assert session.needs_touch(NOW + TOUCH_RESOLUTION)


def test_lifetimes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SessionLifetime(idle=timedelta(0), absolute=timedelta(hours=1))


def test_what_a_session_cannot_store_is_dropped_not_refused() -> None:
    session, _ = UserSession.start(
        user_id=uuid.uuid4(),
        now=NOW,
        lifetime=LIFETIME,
        client_ip="testclient",
        user_agent="x" * 600,
    )
    assert session.client_ip is None and session.user_agent == "x" * 500


@pytest.mark.parametrize(
    "secret",
    ["", "arvs_short", "arv_" + "a" * 40, "arvs_" + "a" * 40 + "!", "arvs_" + "a" * 300],
)
def test_malformed_session_secrets_are_told_apart_before_any_lookup(secret: str) -> None:
    assert not looks_like_session_secret(secret)


# --- set-password links ---------------------------------------------------------------------


def test_a_link_keeps_only_the_hash_of_its_secret_and_expires() -> None:
    link, secret = PasswordLink.issue(user_id=uuid.uuid4(), now=NOW, ttl=timedelta(hours=24))
    assert looks_like_link_secret(secret) and not looks_like_session_secret(secret)
    assert link.link_hash == hash_link_secret(secret) and secret not in repr(link)
    assert not link.is_expired(NOW + timedelta(hours=24) - timedelta(seconds=1))
    assert link.is_expired(NOW + timedelta(hours=24))


# --- the argon2id adapter -------------------------------------------------------------------


def test_argon2_hashes_verify_only_their_password() -> None:
    hasher = Argon2PasswordHasher(FAST)
    hashed = hasher.hash(GOOD)
    assert hashed.startswith("$argon2id$") and GOOD not in hashed
    assert hasher.verify(hashed, GOOD)
    assert not hasher.verify(hashed, GOOD + " ")
    assert hasher.hash(GOOD) != hashed  # salted


def test_an_unreadable_hash_verifies_nothing_and_needs_a_rehash() -> None:
    hasher = Argon2PasswordHasher(FAST)
    assert not hasher.verify("not a hash", GOOD)
    assert hasher.needs_rehash("not a hash")


def test_a_hash_made_with_other_parameters_verifies_and_needs_a_rehash() -> None:
    old = Argon2PasswordHasher(FAST).hash(GOOD)
    stronger = Argon2PasswordHasher(Argon2Parameters(time_cost=2, memory_kib=16, parallelism=1))
    assert stronger.verify(old, GOOD)
    assert stronger.needs_rehash(old)
    assert not stronger.needs_rehash(stronger.hash(GOOD))


def test_the_defaults_are_rfc_9106s_second_option() -> None:
    assert Argon2Parameters() == Argon2Parameters(time_cost=3, memory_kib=65536, parallelism=4)


def test_the_same_text_composed_or_decomposed_verifies() -> None:
    hasher = Argon2PasswordHasher(FAST)
    composed = "비밀번호는 아주 길어요 2026"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert hasher.verify(hasher.hash(composed), decomposed)


def test_a_password_that_is_not_valid_text_still_hashes() -> None:
    hasher = Argon2PasswordHasher(FAST)
    odd = "lone \ud800 surrogate"
    assert hasher.verify(hasher.hash(odd), odd)
