"""The interface's text in English and Korean: every message of the templates has its
Korean translation, the catalogs hold nothing else, and the language is negotiated from the
browser's preferences as HTTP defines them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from interfaces.web.i18n import (
    LANGUAGES,
    catalog,
    negotiate_language,
    preferred_languages,
    translations,
)
from interfaces.web.rendering import template_engine

WEB = Path(__file__).resolve().parents[2] / "src" / "interfaces" / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_messages() -> set[str]:
    """Every msgid in the templates and the web package's Python, as `pybabel extract -F
    babel.cfg` finds them."""
    with (WEB / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map
    ):
        found.update(message if isinstance(message, tuple) else (message,))
    return found


def test_the_templates_have_messages_to_translate() -> None:
    assert {"Sign in", "Documents", "Skip to main content", "Request id: %(id)s"} <= (
        extracted_messages()
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_holds_exactly_the_messages_of_the_templates(language: str) -> None:
    ids = {message.id for message in catalog(language) if message.id}

    assert ids == extracted_messages()


def test_every_message_has_a_korean_translation_with_the_same_placeholders() -> None:
    korean = catalog("ko")
    untranslated = [m.id for m in korean if m.id and (not m.string or m.fuzzy)]
    mismatched = [
        m.id
        for m in korean
        if m.id and sorted(PLACEHOLDER.findall(str(m.id))) != sorted(PLACEHOLDER.findall(m.string))
    ]

    assert untranslated == []
    assert mismatched == []


def test_the_compiled_catalogs_translate() -> None:
    assert translations("ko").gettext("Sign in") == "로그인"
    assert translations("en").gettext("Sign in") == "Sign in"


@pytest.mark.parametrize(
    ("header", "preferred"),
    [
        (None, []),
        ("", []),
        ("ko", ["ko"]),
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", ["ko", "ko", "en", "en"]),
        ("en;q=0.5, ko;q=0.8", ["ko", "en"]),
        ("en;q=0.5,ko;q=0.5", ["en", "ko"]),  # equal quality: the header's order
        ("*, ko;q=0.1", ["ko"]),
        ("ko;q=0, en", ["en"]),
        ("ko;q=abc, en;q=1.5, fr", ["fr"]),
        ("한국어, en", ["en"]),
    ],
)
def test_preferred_languages_follow_quality_then_order(
    header: str | None, preferred: list[str]
) -> None:
    assert preferred_languages(header) == preferred


@pytest.mark.parametrize(
    ("header", "cookie", "setting", "language"),
    [
        ("ko", None, None, "ko"),
        ("fr, ko;q=0.2", None, None, "ko"),
        ("fr", None, None, "en"),
        ("ko", "en", None, "en"),
        ("ko", "xx", None, "ko"),
        ("en", "en", "ko", "ko"),
        (None, None, None, "en"),
    ],
)
def test_the_users_setting_then_the_cookie_then_the_browser_choose(
    header: str | None, cookie: str | None, setting: str | None, language: str
) -> None:
    assert negotiate_language(accept_language=header, cookie=cookie, setting=setting) == language


def error_heading(html: str) -> str:
    found = re.search(r'<h1 id="error-heading">(.*)</h1>', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_error_page_has_its_own_heading_in_each_language(language: str) -> None:
    template = template_engine().get_template("error.html")
    context = {
        "lang": language,
        "translations": translations(language),
        "viewer": None,
        "csrf_token": "",
        "current_path": "/x",
        "here": "/x",
        "messages": [],
        "request_id": "abc",
    }
    statuses = [400, 403, 404, 405, 409, 429, 500, 503]

    headings = {
        status: error_heading(template.render({**context, "status_code": status}))
        for status in statuses
    }

    assert len(set(headings.values())) == len(statuses)
    if language == "ko":
        assert all(not heading.isascii() for heading in headings.values())
