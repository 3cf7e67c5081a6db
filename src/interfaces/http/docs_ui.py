"""The interactive API docs at /schema: Swagger UI, served by the app itself.

Litestar's render plugins load their UI from a CDN (and a favicon from GitHub): without
internet the docs are a blank page. This page loads only files under /schema/static:
- Swagger UI's bundle and stylesheet, vendored unchanged from the npm package
  `swagger-ui-dist` (static/swagger-ui-<version>/, with its licence and checksums). The
  version is in the URL, so they are cached for a year (`immutable`); a new version is a
  new URL;
- our initializer (static/docs/archivist-docs.js), revalidated on every load (`no-cache`):
  its URL stays the same across releases.

Swagger UI reads /schema/openapi.json (the finished document, `openapi.finished_schema`),
not a copy inlined into the page: the page is a few hundred bytes and the document is
computed once. The page's Content-Security-Policy (interfaces.http.headers) allows scripts,
styles, images and requests from this origin only, so a browser refuses any outside URL
even if a future Swagger UI tried one."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar import Request, Router

SWAGGER_UI_VERSION: Final = "5.35.0"
STATIC_DIR: Final = Path(__file__).parent / "static"
SWAGGER_UI_DIR: Final = STATIC_DIR / f"swagger-ui-{SWAGGER_UI_VERSION}"
OWN_DIR: Final = STATIC_DIR / "docs"
# Under the OpenAPI router's path (/schema).
_SWAGGER_UI_PATH: Final = f"/static/swagger-ui-{SWAGGER_UI_VERSION}"
_OWN_PATH: Final = "/static/docs"
_YEAR: Final = 365 * 24 * 3600


class SwaggerUIPlugin(OpenAPIRenderPlugin):
    """Swagger UI (its Authorize button takes the bearer token) on the app's own assets."""

    def __init__(self, *, path: str | Sequence[str] = ("/", "/swagger")) -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        base = request.app.openapi_config.path if request.app.openapi_config else "/schema"
        assets = f"{base}{_SWAGGER_UI_PATH}"
        title = html.escape(f"{openapi_schema['info']['title']} API")
        document = html.escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="{base}{_OWN_PATH}/archivist-docs.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{document}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{base}{_OWN_PATH}/archivist-docs.js"></script>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=_SWAGGER_UI_PATH,
                directories=[SWAGGER_UI_DIR],
                name="docs-swagger-ui",
                cache_control=CacheControlHeader(public=True, max_age=_YEAR, immutable=True),
                include_in_schema=False,
            )
        )
        router.register(
            create_static_files_router(
                path=_OWN_PATH,
                directories=[OWN_DIR],
                name="docs-own",
                cache_control=CacheControlHeader(no_cache=True),
                include_in_schema=False,
            )
        )
