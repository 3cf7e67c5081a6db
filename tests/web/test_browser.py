"""The web interface in a real browser (issue #14, step 1): headless Chromium (Debian's
package, driven by Playwright) against `archivist serve`, able to reach 127.0.0.1 only.
Every test also asserts the browser reported no console error, no Content-Security-Policy
violation and no request for another host. Screenshots go to test-artifacts/screenshots/.

All on one xdist worker (`xdist_group`): one server and one Chromium for the module, and
never two browsers competing for the machine's two cores. Nothing here times itself
against the clock, so the tests need not run in the serial part."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import BrowserPage, open_page, save_screenshot
from tests.support.integration_cli import Server

pytestmark = pytest.mark.xdist_group("browser")

BLOCKING = {"serious", "critical"}
# What Chromium logs for a page served with an error status.
FAILED_LOAD = {
    200: (),
    404: ("Failed to load resource: the server responded with a status of 404 (Not Found)",),
}


def axe_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page (axe-core comes with
    axe-playwright-python: nothing is fetched)."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"{[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_an_anonymous_visit_to_the_documents_lands_on_the_sign_in_form(
    server: Server, browser: Browser
) -> None:
    with open_page(browser) as tab:
        tab.page.goto(f"{server.base_url}/documents")

        assert tab.page.url == f"{server.base_url}/sign-in?next=%2Fdocuments"
        expect(tab.page.get_by_role("heading", level=1)).to_have_text("Sign in to Archivist")
        expect(tab.page.get_by_label("Email address")).to_be_editable()
        expect(tab.page.get_by_label("Password", exact=True)).to_have_attribute("type", "password")
        expect(tab.page.get_by_role("status")).to_have_text("Sign in to see that page.")
        expect(tab.page.locator('input[name="next"]').first).to_have_value("/documents")
        save_screenshot(tab.page, "sign-in")
        tab.watch.assert_quiet()


@pytest.mark.parametrize(
    ("path", "status"), [("/sign-in?next=%2Fdocuments", 200), ("/no-such-page", 404)]
)
def test_the_anonymous_pages_pass_axe_core(
    server: Server, browser: Browser, path: str, status: int
) -> None:
    with open_page(browser) as tab:
        response = tab.page.goto(f"{server.base_url}{path}")

        assert response is not None
        assert response.status == status
        assert axe_problems(tab.page) == []
        for landmark in ("banner", "main", "contentinfo"):
            expect(tab.page.get_by_role(landmark)).to_have_count(1)
        tab.watch.assert_quiet(expected_console=FAILED_LOAD[status])


def test_the_sign_in_page_speaks_korean_to_a_korean_browser(
    server: Server, browser: Browser
) -> None:
    with open_page(browser, locale="ko-KR") as tab:
        tab.page.goto(f"{server.base_url}/documents")

        expect(tab.page.locator("html")).to_have_attribute("lang", "ko")
        expect(tab.page.get_by_role("heading", level=1)).to_have_text("Archivist에 로그인")
        expect(tab.page.get_by_label("이메일 주소")).to_be_visible()
        expect(tab.page.get_by_label("비밀번호", exact=True)).to_be_visible()
        expect(tab.page.get_by_role("button", name="로그인")).to_be_visible()
        assert tab.page.title() == "로그인 · Archivist"
        assert axe_problems(tab.page) == []
        save_screenshot(tab.page, "sign-in-ko")
        tab.watch.assert_quiet()


def test_the_language_switch_changes_the_language_and_comes_back(
    server: Server, browser: Browser
) -> None:
    with open_page(browser) as tab:
        tab.page.goto(f"{server.base_url}/documents")

        tab.page.get_by_label("Language").select_option("ko")
        tab.page.get_by_role("button", name="Change language").click()

        expect(tab.page.get_by_role("heading", level=1)).to_have_text("Archivist에 로그인")
        assert tab.page.url == f"{server.base_url}/sign-in?next=%2Fdocuments"
        tab.watch.assert_quiet()


def test_the_sign_in_page_fits_a_375_px_phone(server: Server, browser: Browser) -> None:
    with open_page(browser, width=375, height=740) as tab:
        tab.page.goto(f"{server.base_url}/sign-in")

        assert_no_horizontal_scroll(tab)
        for control in (
            tab.page.get_by_label("Email address"),
            tab.page.get_by_role("button", name="Sign in"),
            tab.page.get_by_role("button", name="Show password"),
        ):
            box = control.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 375
            assert box["height"] >= 44  # a finger's target
        save_screenshot(tab.page, "sign-in-375")
        tab.watch.assert_quiet()


def assert_no_horizontal_scroll(tab: BrowserPage) -> None:
    widths = tab.page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


def test_the_keyboard_reaches_the_skip_link_first_and_focus_is_visible(
    server: Server, browser: Browser
) -> None:
    with open_page(browser) as tab:
        tab.page.goto(f"{server.base_url}/sign-in")

        tab.page.keyboard.press("Tab")
        skip = tab.page.get_by_role("link", name="Skip to main content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        tab.page.keyboard.press("Enter")
        expect(tab.page.locator("main")).to_be_focused()
        tab.page.keyboard.press("Tab")
        email = tab.page.get_by_label("Email address")
        expect(email).to_be_focused()
        outline = email.evaluate(
            "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]"
        )
        assert outline == ["solid", "3px"]
        tab.watch.assert_quiet()


def test_the_password_can_be_shown_with_script_and_the_form_works_without(
    server: Server, browser: Browser
) -> None:
    with open_page(browser) as tab:
        tab.page.goto(f"{server.base_url}/sign-in")
        password = tab.page.get_by_label("Password", exact=True)
        password.fill("correct horse")

        toggle = tab.page.get_by_role("button", name="Show password")
        toggle.click()

        expect(password).to_have_attribute("type", "text")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        toggle.click()
        expect(password).to_have_attribute("type", "password")
        tab.watch.assert_quiet()

    with open_page(browser, javascript=False) as tab:
        tab.page.goto(f"{server.base_url}/sign-in")

        expect(tab.page.get_by_label("Email address")).to_be_editable()
        expect(tab.page.get_by_label("Password", exact=True)).to_be_editable()
        expect(tab.page.get_by_role("button", name="Show password")).to_have_count(0)
        expect(tab.page.get_by_role("button", name="Sign in")).to_be_enabled()


def test_the_watch_sees_what_the_policy_refuses(server: Server, browser: Browser) -> None:
    """The control for `assert_quiet`: an inline script, an outside image and a stylesheet
    from elsewhere are each reported."""
    with open_page(browser) as tab:
        tab.page.goto(f"{server.base_url}/sign-in")

        tab.page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.ran = true";
              document.body.append(script);
              const image = document.createElement("img");
              image.src = "https://cdn.example.com/x.png";
              document.body.append(image);
            }"""
        )
        tab.page.wait_for_timeout(200)

        assert tab.page.evaluate("window.ran") is None
        assert any(v.startswith("script-src-elem blocked inline") for v in tab.watch.csp_violations)
        assert any("cdn.example.com" in v for v in tab.watch.csp_violations)
        assert tab.watch.console_errors != []
