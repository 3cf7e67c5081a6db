"""Pages as Jinja2 templates through Litestar's template support.

One environment per app (`template_config`): autoescaping on, undefined names an error (a
template asking for what its handler did not give fails in the tests, not in front of a
user), and gettext from the i18n extension, translated per request: `page()` puts the
request's catalog in the context as `translations`, and `_()`, `gettext`, `ngettext` and
`{% trans %}` read it from there, so no language is kept in a global."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

from interfaces.web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    negotiate_language,
    translations,
)
from interfaces.web.navigation import requested_path
from interfaces.web.session import VIEWER_STATE as VIEWER_STATE  # re-exported
from interfaces.web.session import Viewer, form_cookies, form_token

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_PATH: Final = "/static"


@dataclass(frozen=True, slots=True)
class Message:
    """A line in the page's status area (`level`: "info", "success" or "error"); `text` is
    already in the page's language."""

    level: str
    text: str


@pass_context
def _gettext(context: Context, message: str) -> str:
    catalog = cast(Translations, context["translations"])
    return catalog.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    catalog = cast(Translations, context["translations"])
    return catalog.ngettext(singular, plural, n)


def static_url(name: str) -> str:
    return f"{STATIC_PATH}/{name}"


def template_engine() -> JinjaTemplateEngine:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Added by the i18n extension (not in Environment's type). newstyle: `_()` escapes
    # what it is given and formats `%(name)s` placeholders from keywords.
    cast(Any, environment).install_gettext_callables(_gettext, _ngettext, newstyle=True)
    environment.globals.update(
        static=static_url,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )
    return JinjaTemplateEngine.from_environment(environment)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The app's template configuration. Reads every catalog now, so a broken one stops
    the start, not a page."""
    for language in LANGUAGES:
        translations(language)
    return TemplateConfig(instance=template_engine())


def signed_in_viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    """The viewer the admission hook found (None: anonymous, or not asked)."""
    viewer: Viewer | None = request.state.get(VIEWER_STATE)
    return viewer


def page_language(request: Request[Any, Any, Any], viewer: Viewer | None) -> str:
    return negotiate_language(
        accept_language=request.headers.get("accept-language"),
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        setting=viewer.language if viewer else None,
    )


def translator(request: Request[Any, Any, Any]) -> Callable[[str], str]:
    """gettext in the language of this request's page, for text a handler writes. Bind it as
    `_ = translator(request)` so that `pybabel extract` finds each `_("...")` literal."""
    return translations(page_language(request, signed_in_viewer(request))).gettext


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    messages: Sequence[Message] = (),
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Template:
    """`template` rendered for this request: in its language, for its viewer, with what the
    layout needs (base.html) besides the page's own `context`."""
    viewer = signed_in_viewer(request)
    language = page_language(request, viewer)
    return Template(
        template_name=template,
        status_code=status,
        context={
            "lang": language,
            "translations": translations(language),
            "viewer": viewer,
            "csrf_token": form_token(request),
            "current_path": request.url.path,  # which navigation entry is "current"
            "here": requested_path(request),  # where the language switch comes back to
            "messages": list(messages),
            **context,
        },
        headers={
            "Content-Language": language,
            # The language follows these request headers (and the viewer's setting).
            "Vary": "Accept-Language, Cookie",
            **(headers or {}),
        },
        # The anonymous visitor's form cookie, when this page's forms got a new token.
        cookies=form_cookies(request),
    )
