"""The API docs page works offline (issue #13, must-show 5): a headless Chromium (Debian's
package; `.ci/run` installs it) loads /schema from `archivist serve` with every host but
127.0.0.1 unreachable, and finds Swagger UI rendered: every operation of the served OpenAPI
document, and the Authorize button. Skipped where Chromium is missing, failed instead when
ARCHIVIST_REQUIRE_CHROMIUM=1 (CI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.integration_cli import Server, cli_env, start_server

CHROMIUM_TIMEOUT_S = 60.0


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("ARCHIVIST_REQUIRE_CHROMIUM") == "1":
            pytest.fail("ARCHIVIST_REQUIRE_CHROMIUM=1 but no chromium on PATH")
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    return found


def dump_dom(browser: str, url: str, profile: Path) -> str:
    """The DOM of `url` once its scripts ran, loaded with no way out but 127.0.0.1: every
    name resolves to nothing and anything not for 127.0.0.1 goes to a proxy on a closed
    port (the discard port)."""
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("docs")
    env = cli_env(None, tmp / "data") | {"ARCHIVIST_STORAGE": "memory"}
    running = start_server(env, tmp, tmp / "logs")
    try:
        yield running
    finally:
        running.stop()


def test_swagger_ui_renders_every_operation_offline(server: Server, tmp_path: Path) -> None:
    browser = chromium()
    document: dict[str, Any] = httpx.get(f"{server.base_url}/schema/openapi.json").json()
    # Swagger UI's element ids: `operations-<tag>-<operationId>`, spaces as underscores.
    operations = [
        (operation["tags"][0].replace(" ", "_"), operation["operationId"])
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]

    dom = dump_dom(browser, f"{server.base_url}/schema", tmp_path / "profile")

    rendered = set(re.findall(r'id="operations-([^"]+)"', dom))
    missing = [f"{tag}-{op_id}" for tag, op_id in operations if f"{tag}-{op_id}" not in rendered]
    assert len(operations) > 50
    assert missing == []
    assert 'class="btn authorize' in dom
    upload = document["paths"]["/api/v1/documents"]["post"]["summary"]
    assert upload in dom


def test_a_page_from_any_other_host_does_not_load(server: Server, tmp_path: Path) -> None:
    """The control: the same page by another name (`localhost`) is unreachable, so the test
    above proves the page needs nothing beyond 127.0.0.1."""
    browser = chromium()
    other = server.base_url.replace("127.0.0.1", "localhost")

    dom = dump_dom(browser, f"{other}/schema", tmp_path / "profile")

    assert "opblock" not in dom
    assert "swagger-ui" not in dom
