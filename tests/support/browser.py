"""A real browser for the web interface's tests: Playwright driving Debian's Chromium.

Nothing is downloaded: Playwright is told which Chromium to run (`chromium_path`, the
package's `/usr/bin/chromium`; `.ci/run` installs it) and never fetches a build of its own.
Where Chromium is missing the test is skipped, or failed when ARCHIVIST_REQUIRE_CHROMIUM=1
(CI), as tests/integration/test_docs_browser.py does.

Each page is opened in a context of its own (`open_page`) that can reach 127.0.0.1 only:
names resolve to nothing but 127.0.0.1, and any request for another host is aborted and
recorded. What the browser reports is kept on a `PageWatch`: console errors, uncaught
exceptions, and every Content-Security-Policy violation (reported by a listener the
browser runs before the page's own scripts, outside the page's policy).

People sign in as a person does (`sign_in`: the form, filled and sent); `add_person` makes
one with a password on a running server through the API (tests/web/conftest.py's `people`
fixture has one of each role ready)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
# Git-ignored; CI may keep it as the run's artifacts.
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
ONLY_HOST = "127.0.0.1"
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {ONLY_HOST}",
]
# Reports each violation to the test through an exposed binding (which outlives navigation).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("ARCHIVIST_REQUIRE_CHROMIUM") == "1":
            pytest.fail("ARCHIVIST_REQUIRE_CHROMIUM=1 but no chromium on PATH")
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    return found


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What the browser said while a test used the page."""

    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    refused_requests: list[str] = field(default_factory=list)

    def assert_quiet(self, *, expected_console: Sequence[str] = ()) -> None:
        """Nothing refused, nothing blocked, and no console error but `expected_console`
        (Chromium logs a page served with an error status as a failed load)."""
        assert self.csp_violations == []
        assert [e for e in self.console_errors if e not in expected_console] == []
        assert self.refused_requests == []


@dataclass
class BrowserPage:
    page: Page
    watch: PageWatch


@contextmanager
def open_page(
    browser: Browser,
    *,
    locale: str = "en-US",
    width: int = 1280,
    height: int = 800,
    javascript: bool = True,
) -> Iterator[BrowserPage]:
    """A page in a fresh context (no cookies) whose browser language is `locale` (sent as
    Accept-Language), whose viewport is `width` x `height` CSS pixels, and which runs the
    pages' scripts unless `javascript` is False."""
    context: BrowserContext = browser.new_context(
        locale=locale,
        viewport={"width": width, "height": height},
        java_script_enabled=javascript,
    )
    watch = PageWatch()

    def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == ONLY_HOST:
            route.continue_()
        else:
            watch.refused_requests.append(route.request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.console_errors.append(message.text)

    def on_violation(_source: Any, text: str) -> None:
        watch.csp_violations.append(text)

    try:
        context.route("**/*", only_this_machine)
        context.expose_binding("__reportCspViolation", on_violation)
        context.add_init_script(_CSP_LISTENER)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: watch.console_errors.append(str(error)))
        yield BrowserPage(page, watch)
    finally:
        with suppress(PlaywrightError):  # the browser went first
            context.close()


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under test-artifacts/screenshots/ (overwritten each run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# What `add_person` gives everyone unless told otherwise (12+ characters, not common).
DEFAULT_PASSWORD = "a long and unusual passphrase"


@dataclass(frozen=True)
class Person:
    """Someone who can sign in to the test server."""

    email: str
    password: str
    name: str
    role: str
    access_level: int


def add_person(
    base_url: str,
    admin_token: str,
    *,
    email: str,
    name: str,
    role: str = "member",
    access_level: int = 1,
    password: str = DEFAULT_PASSWORD,
) -> Person:
    """A new user with a password on the server at `base_url`, made by an administrator
    through the API (POST /users, PUT /users/{id}/password)."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=10.0) as api:
        created = api.post(
            "/users",
            json={"email": email, "name": name, "role": role, "access_level": access_level},
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        set_password = api.put(f"/users/{user_id}/password", json={"password": password})
        assert set_password.status_code == 204, set_password.text
    return Person(email, password, name, role, access_level)


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in on the sign-in page as a person would (in any interface language), and wait
    until the browser has left it; fails with the page's message if it stays."""
    page.goto(f"{base_url}/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator('form[action="/sign-in"] [type="submit"]').click()
    if urlsplit(page.url).path == "/sign-in":
        shown = page.locator(".messages").inner_text()
        raise AssertionError(f"signing in as {email} failed: {shown!r}")


def sign_out(page: Page) -> None:
    """Sign out with the button in the page's header."""
    with page.expect_navigation():
        page.locator('form.sign-out [type="submit"]').click()
