"""Where the sign-in page may send a visitor on: only ever somewhere on this site."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import RequestFactory

from interfaces.web.navigation import safe_next, same_site_path, sign_in_location

SITE = "https://archive.example.org/documents/"


@given(st.text(max_size=40) | st.from_regex(r"\A[/\\]{1,3}[^/]{0,12}(/.{0,8})?\Z"))
def test_whatever_next_is_kept_a_browser_resolves_on_this_site(value: str) -> None:
    kept = same_site_path(value)

    if kept is not None:
        # As a browser reads a Location header, and as it would with backslashes for slashes.
        for candidate in (kept, kept.replace("\\", "/")):
            resolved = urlsplit(urljoin(SITE, candidate))
            assert (resolved.scheme, resolved.netloc) == ("https", "archive.example.org")
        assert kept.startswith("/")


@pytest.mark.parametrize(
    "value",
    ["/sign-in", "/sign-in/", "/sign-in?next=/documents", "/sign-in#x"],
)
def test_next_never_points_back_at_the_sign_in_page(value: str) -> None:
    assert same_site_path(value) == value
    assert safe_next(value) is None


def test_an_anonymous_page_request_comes_back_after_signing_in() -> None:
    request = RequestFactory().get("/documents", query_params={"page": "2"})

    assert sign_in_location(request) == "/sign-in?next=%2Fdocuments%3Fpage%3D2"


def test_an_anonymous_form_post_is_not_asked_for_again() -> None:
    request = RequestFactory().post("/documents", data={"x": "1"})

    assert sign_in_location(request) == "/sign-in"
