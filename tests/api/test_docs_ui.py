"""The API docs page (/schema) is Swagger UI served by the app itself (issue #13 item 6): it
names no other origin, its assets come from this server with cache headers and without a
token, the browser is told to load nothing from elsewhere, and the vendored files are the
pinned release. tests/integration/test_docs_browser.py loads it in a browser, offline."""

from __future__ import annotations

import hashlib
import re

import pytest

from interfaces.http.docs_ui import SWAGGER_UI_DIR, SWAGGER_UI_VERSION
from tests.api.conftest import Api

ASSETS = f"/schema/static/swagger-ui-{SWAGGER_UI_VERSION}"
# An absolute URL, or a protocol-relative one (`//host/...`).
EXTERNAL = re.compile(r"(https?:)?//[A-Za-z0-9.-]+", re.IGNORECASE)
# SVG images inlined as data: URLs name their XML namespace, an identifier never fetched.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def local_references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
async def test_the_docs_page_loads_swagger_ui_from_this_server_only(api: Api, path: str) -> None:
    response = await api.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert EXTERNAL.findall(response.text) == []
    assert set(local_references(response.text)) == {
        f"{ASSETS}/favicon-32x32.png",
        f"{ASSETS}/swagger-ui.css",
        f"{ASSETS}/swagger-ui-bundle.js",
        "/schema/static/docs/archivist-docs.css",
        "/schema/static/docs/archivist-docs.js",
    }
    assert 'data-openapi-url="/schema/openapi.json"' in response.text


async def test_the_docs_page_forbids_loading_from_other_origins(api: Api) -> None:
    policy = (await api.client.get("/schema")).headers["content-security-policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "http" not in policy


@pytest.mark.parametrize(
    ("asset", "content_type", "cache_control"),
    [
        (
            f"{ASSETS}/swagger-ui-bundle.js",
            "text/javascript",
            "max-age=31536000, public, immutable",
        ),
        (f"{ASSETS}/swagger-ui.css", "text/css", "max-age=31536000, public, immutable"),
        ("/schema/static/docs/archivist-docs.js", "text/javascript", "no-cache"),
    ],
)
async def test_the_assets_are_served_without_a_token_with_cache_headers(
    api: Api, asset: str, content_type: str, cache_control: str
) -> None:
    response = await api.client.get(asset)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["cache-control"] == cache_control


async def test_the_stylesheet_and_our_script_name_no_other_origin(api: Api) -> None:
    css = (await api.client.get(f"{ASSETS}/swagger-ui.css")).text
    own = (await api.client.get("/schema/static/docs/archivist-docs.js")).text

    urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
    assert urls  # the stylesheet's images are inlined (data: URLs, whose base64 may hold //)
    assert [u for u in urls if not u.startswith("data:")] == []
    assert re.findall(r"https?://", css.replace(SVG_NAMESPACE, ""), re.IGNORECASE) == []
    assert "@import" not in css
    assert EXTERNAL.findall(own) == []


async def test_the_docs_routes_are_not_api_operations(api: Api) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()

    assert [p for p in document["paths"] if p.startswith("/schema")] == []


async def test_the_other_documentation_sites_are_not_served(api: Api) -> None:
    for path in ("/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert (await api.client.get(path)).status_code == 404, path


def test_the_vendored_files_are_the_pinned_release() -> None:
    listed = {
        name: digest
        for digest, name in (
            line.split() for line in (SWAGGER_UI_DIR / "SHA256SUMS").read_text().splitlines()
        )
    }

    assert set(listed) >= {"LICENSE", "NOTICE", "swagger-ui-bundle.js", "swagger-ui.css"}
    assert {
        name: hashlib.sha256((SWAGGER_UI_DIR / name).read_bytes()).hexdigest() for name in listed
    } == listed
    assert f'"{SWAGGER_UI_VERSION}"' in (SWAGGER_UI_DIR / "swagger-ui-bundle.js").read_text()
