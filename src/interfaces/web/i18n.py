r"""Interface languages: English and Korean, from gettext catalogs kept as `.po` files.

Catalogs: `locale/<language>/LC_MESSAGES/*.po` (one file per area of the interface:
`messages.po` for the frame and sign-in, others beside it; `catalog` merges them, and a
message in two files must read the same in both), read and compiled in memory by Babel once
a process (`translations`; the app's `template_config()` reads them all when it
is built), so a fresh `pip install -e .` needs no compile step and no `.mo` file is kept
beside its source. The msgids are the English text: the English catalog's translations stay
empty and English falls back to them.

New or changed text, from the repository's root:

    pybabel extract -F src/interfaces/web/babel.cfg --no-location --omit-header \
        --sort-output -o /tmp/messages.pot src/interfaces/web
    pybabel update -i /tmp/messages.pot -d src/interfaces/web/locale --ignore-obsolete -w 100

then translate the new Korean entries (`tests/web/test_i18n.py` fails on a missing one).

Which language a page is in (`negotiate_language`): the signed-in user's setting, else the
`lang` cookie the language switch sets, else the browser's Accept-Language, else English."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: Final = ("en", "ko")
DEFAULT_LANGUAGE: Final = "en"
# Each language named in itself, as a language menu shows them.
LANGUAGE_NAMES: Final = {"en": "English", "ko": "한국어"}
LANGUAGE_COOKIE: Final = "lang"
LOCALE_DIR: Final = Path(__file__).parent / "locale"
DOMAIN: Final = "messages"
# An Accept-Language header past this many entries is read no further (the request limits
# bound the header's bytes; this bounds the work).
_MAX_RANGES: Final = 32


def catalog_path(language: str, area: str = DOMAIN) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{area}.po"


def catalog(language: str) -> Catalog:
    """Every `.po` file of `language`, merged into one catalog (in file name order)."""
    if language not in LANGUAGES:
        raise ValueError(f"not an interface language: {language!r}")
    merged = Catalog(locale=language, domain=DOMAIN)
    for path in sorted(catalog_path(language).parent.glob("*.po")):
        with path.open("rb") as source:
            part = read_po(source, locale=language, domain=DOMAIN)
        for message in part:
            if not message.id:
                continue  # the header
            known = merged.get(message.id)
            if known is not None and known.string != message.string:
                raise ValueError(f"{path.name}: {message.id!r} translated otherwise elsewhere")
            merged[message.id] = message
    return merged


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of `language` (one of LANGUAGES), built once a process.
    Fuzzy and untranslated entries are left out, so their English msgid shows."""
    compiled = BytesIO()
    write_mo(compiled, catalog(language), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def preferred_languages(accept_language: str | None) -> list[str]:
    """The primary language subtags of an Accept-Language header, most wanted first (by
    quality, then by order); ranges with q=0, `*` and malformed entries are dropped.
    `"ko-KR,ko;q=0.9,en;q=0.8"` -> `["ko", "ko", "en"]`."""
    if not accept_language:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:_MAX_RANGES]):
        tag, _, params = item.partition(";")
        primary = tag.strip().split("-")[0].lower()
        if not primary.isascii() or not primary.isalpha():
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 < quality <= 1.0:
            ranked.append((-quality, position, primary))
    return [primary for _, _, primary in sorted(ranked)]


def negotiate_language(
    *, accept_language: str | None, cookie: str | None = None, setting: str | None = None
) -> str:
    """The interface language: the user's `setting`, else the `cookie`'s, else the first
    of the browser's preferences Archivist speaks, else DEFAULT_LANGUAGE."""
    for chosen in (setting, cookie):
        if chosen in LANGUAGES:
            return chosen
    for wanted in preferred_languages(accept_language):
        if wanted in LANGUAGES:
            return wanted
    return DEFAULT_LANGUAGE
