"""Signing in and out in a real browser (issue #14 item 1, must-show 2): headless Chromium
against `archivist serve`, as tests/web/test_browser.py runs it (one server and one browser
for the module, all on one xdist worker). The first administrator's one-time link, printed by
the server's first start, sets their password; people sign in, see the documents and their
account page, and sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import Person, open_page, save_screenshot, sign_in, sign_out
from tests.support.integration_cli import Server
from tests.web.test_browser import assert_no_horizontal_scroll, axe_problems

pytestmark = pytest.mark.xdist_group("browser")


def test_a_member_signs_in_sees_the_documents_and_their_account_and_signs_out(
    server: Server, browser: Browser, people: dict[str, Person]
) -> None:
    member = people["member"]
    with open_page(browser) as tab:
        tab.page.goto(f"{server.base_url}/account")  # a private page first: sign in, come back
        assert tab.page.url == f"{server.base_url}/sign-in?next=%2Faccount"
        tab.page.get_by_label("Email address").fill(member.email)
        tab.page.get_by_label("Password", exact=True).fill(member.password)
        tab.page.get_by_role("button", name="Sign in", exact=True).click()

        expect(tab.page.get_by_role("heading", level=1)).to_have_text("Your account")
        assert tab.page.url == f"{server.base_url}/account"
        expect(tab.page.get_by_role("link", name=member.name)).to_have_attribute(
            "aria-current", "page"
        )
        expect(tab.page.locator(".sessions tbody tr")).to_have_count(1)
        expect(tab.page.get_by_text("This browser", exact=True)).to_be_visible()
        assert axe_problems(tab.page) == []
        assert_no_horizontal_scroll(tab)
        save_screenshot(tab.page, "account")
        tab.page.set_viewport_size({"width": 375, "height": 740})
        assert_no_horizontal_scroll(tab)
        save_screenshot(tab.page, "account-375")

        tab.page.get_by_role("link", name="Documents").click()
        expect(tab.page).to_have_url(f"{server.base_url}/documents")
        expect(tab.page.get_by_role("navigation", name="Main")).to_be_visible()

        sign_out(tab.page)

        assert tab.page.url == f"{server.base_url}/sign-in?notice=signed-out"
        expect(tab.page.get_by_role("status")).to_have_text("You are signed out.")
        tab.page.goto(f"{server.base_url}/documents")
        assert tab.page.url == f"{server.base_url}/sign-in?next=%2Fdocuments"
        tab.watch.assert_quiet()


def test_the_first_admin_sets_a_password_with_the_link_serve_printed_and_signs_in(
    server: Server, browser: Browser
) -> None:
    found = re.search(r"http://\S+/set-password\?token=\S+", server.stderr)
    assert found is not None, server.stderr
    with open_page(browser, width=375, height=740) as tab:
        tab.page.goto(found.group(0))
        expect(tab.page.get_by_role("heading", level=1)).to_have_text("Choose your password")
        expect(tab.page.get_by_text("For the account admin@archivist.localhost.")).to_be_visible()
        assert axe_problems(tab.page) == []

        tab.page.get_by_label("Your new password", exact=True).fill("short")
        tab.page.get_by_label("Your new password again").fill("short")
        tab.page.get_by_role("button", name="Set password").click()
        expect(tab.page.locator("#password-error")).to_have_text("Use at least 12 characters.")
        expect(tab.page.get_by_label("Your new password", exact=True)).to_have_attribute(
            "aria-invalid", "true"
        )
        save_screenshot(tab.page, "set-password-375")

        tab.page.get_by_label("Your new password", exact=True).fill("a brand new office phrase")
        tab.page.get_by_label("Your new password again").fill("a brand new office phrase")
        tab.page.get_by_role("button", name="Set password").click()
        expect(tab.page.get_by_role("status")).to_have_text(
            "Your password is set. Sign in with it now."
        )

        sign_in(tab.page, server.base_url, "admin@archivist.localhost", "a brand new office phrase")

        expect(tab.page.get_by_role("link", name="Admin", exact=True)).to_be_visible()
        tab.page.goto(found.group(0))
        expect(tab.page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
        tab.watch.assert_quiet(
            expected_console=(
                "Failed to load resource: the server responded with a status of 422 "
                "(Unprocessable Entity)",
                "Failed to load resource: the server responded with a status of 410 (Gone)",
            )
        )
