"""The web interface for people: server-rendered pages (Jinja2 through Litestar's template
support) with progressive enhancement, in English and Korean, served by the same app as the
API. What the app factory mounts: `web_router()`, `template_config()` and
`with_page_errors(...)` around the app's exception handlers."""

from interfaces.web.errors import with_page_errors
from interfaces.web.pages import web_router
from interfaces.web.rendering import template_config

__all__ = ["template_config", "web_router", "with_page_errors"]
