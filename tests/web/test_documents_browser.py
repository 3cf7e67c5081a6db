"""The documents pages in a real browser (issue #14): signed in for real against `archivist
serve`, the list and a document's page pass axe-core and fit a 375 px phone; bulk tagging
with the script's "select all"; a tag change from a stale second tab is reported, not lost;
trash and restore through the script's confirmation dialog; an intern never sees an L3
document. Screenshots: documents-list, documents-list-375, document-page.

On the browser tests' xdist worker, as tests/web/test_browser.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, expect

from tests.support.browser import Person, open_page, save_screenshot, sign_in
from tests.support.integration_cli import Server
from tests.web.test_browser import FAILED_LOAD, assert_no_horizontal_scroll, axe_problems

pytestmark = pytest.mark.xdist_group("browser")

# What Chromium logs for the page the stale tab gets back (409 Conflict).
CONFLICT_LOAD = ("Failed to load resource: the server responded with a status of 409 (Conflict)",)


@pytest.fixture(scope="module")
def documents(server: Server, server_admin_token: str) -> dict[str, Any]:
    """Three documents the administrator stored through the API, by title: two at L1, one
    at L3."""
    made: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {server_admin_token}"}
    with httpx.Client(base_url=f"{server.base_url}/api/v1", headers=headers, timeout=10) as api:
        for title, level, tags in [
            ("Employee handbook", 1, ["hr"]),
            ("Budget 2026", 1, ["finance"]),
            ("Merger plan", 3, ["board"]),
        ]:
            created = api.post(
                "/documents/text",
                json={
                    "content": f"{title}\n\nWhat the {title.lower()} says, line by line.",
                    "document_type": "TXT",
                    "title": title,
                    "access_level": level,
                    "tags": tags,
                },
            )
            assert created.status_code == 201, created.text
            made[title] = created.json()
    return made


def test_the_list_and_a_document_page_bulk_tagging_and_a_phone(
    server: Server, browser: Browser, people: dict[str, Person], documents: dict[str, Any]
) -> None:
    admin = people["admin"]
    with open_page(browser) as tab:
        page = tab.page
        sign_in(page, server.base_url, admin.email, admin.password)
        page.goto(f"{server.base_url}/documents?sort=title")

        expect(page.get_by_role("heading", level=1)).to_have_text("Documents")
        rows = page.locator(".documents-table tbody tr")
        expect(rows).to_have_count(3)
        assert axe_problems(page) == []
        save_screenshot(page, "documents-list")

        page.get_by_label("Select all on this page").check()
        expect(page.locator(".documents-selection")).to_have_text("Selected: 3")
        page.get_by_label("Action").select_option("add_tags")
        page.get_by_label("Tags", exact=True).fill("reviewed")
        page.get_by_role("button", name="Apply to the selected documents").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Selected documents")
        expect(page.locator(".documents-outcomes")).to_contain_text("Changed")
        page.get_by_role("link", name="Back to the documents").click()
        expect(page.locator(".documents-table .documents-tag", has_text="reviewed")).to_have_count(
            3
        )

        page.get_by_role("link", name="Budget 2026").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Budget 2026")
        expect(page.get_by_role("link", name="Download")).to_have_attribute(
            "href", f"/documents/{documents['Budget 2026']['id']}/file"
        )
        assert axe_problems(page) == []
        save_screenshot(page, "document-page")
        tab.watch.assert_quiet()

    with open_page(browser, width=375, height=740) as tab:
        sign_in(tab.page, server.base_url, admin.email, admin.password)
        tab.page.goto(f"{server.base_url}/documents")
        assert_no_horizontal_scroll(tab)
        tab.page.goto(f"{server.base_url}/documents/{documents['Budget 2026']['id']}")
        assert_no_horizontal_scroll(tab)
        tab.page.goto(f"{server.base_url}/documents")
        save_screenshot(tab.page, "documents-list-375")
        tab.watch.assert_quiet()


def test_a_stale_tab_is_told_trash_asks_first_and_an_intern_sees_no_l3_document(
    server: Server, browser: Browser, people: dict[str, Person], documents: dict[str, Any]
) -> None:
    admin, intern = people["admin"], people["intern"]
    handbook = f"{server.base_url}/documents/{documents['Employee handbook']['id']}"
    with open_page(browser) as tab:
        first = tab.page
        sign_in(first, server.base_url, admin.email, admin.password)
        first.goto(handbook)
        second = first.context.new_page()  # the same session, a second tab
        second.goto(handbook)

        first.get_by_label("Add tags").fill("first")
        first.get_by_role("button", name="Add", exact=True).click()
        expect(first.get_by_role("status")).to_contain_text("The tags were added.")
        second.get_by_label("Add tags").fill("second")
        second.get_by_role("button", name="Add", exact=True).click()
        expect(second.get_by_role("status")).to_contain_text(
            "Someone else changed this document since you opened it"
        )
        expect(second.get_by_label("Add tags")).to_have_value("second")
        second.close()

        def accept(dialog: Dialog) -> None:
            assert dialog.message == "Move this document to the trash?"
            dialog.accept()

        # The dialogs are the page script's: click only once the module has run (it runs
        # before `load`), or the form goes to the no-script confirmation page instead.
        first.wait_for_load_state()
        first.once("dialog", accept)
        first.get_by_role("button", name="Move to the trash").click()
        expect(first.get_by_role("status")).to_contain_text("moved to the trash")
        first.wait_for_load_state()
        first.once("dialog", lambda dialog: dialog.accept())
        first.get_by_role("button", name="Restore").click()
        expect(first.get_by_role("status")).to_contain_text("restored from the trash")
        tab.watch.assert_quiet(expected_console=CONFLICT_LOAD)

    with open_page(browser) as tab:
        sign_in(tab.page, server.base_url, intern.email, intern.password)
        tab.page.goto(f"{server.base_url}/documents")
        expect(tab.page.locator(".documents-table tbody tr")).to_have_count(2)
        expect(tab.page.get_by_text("Merger plan")).to_have_count(0)
        missing = tab.page.goto(f"{server.base_url}/documents/{documents['Merger plan']['id']}")
        assert missing is not None
        assert missing.status == 404
        tab.watch.assert_quiet(expected_console=FAILED_LOAD[404])


def test_a_grant_shows_a_document_in_the_grantees_own_session_found_by_search(
    server: Server, browser: Browser, people: dict[str, Person], documents: dict[str, Any]
) -> None:
    """The administrator gives a member (L2) read access to the L3 "Merger plan" while the
    member is signed in in a browser of their own: before, their search finds nothing and
    the page is a 404; after, the search finds it and the hit opens its page."""
    admin, member = people["admin"], people["member"]
    merger = documents["Merger plan"]["id"]
    with open_page(browser) as grantee, open_page(browser) as owner:
        sign_in(grantee.page, server.base_url, member.email, member.password)
        grantee.page.goto(f"{server.base_url}/search?q=merger")
        expect(grantee.page.locator(".search-hit")).to_have_count(0)

        sign_in(owner.page, server.base_url, admin.email, admin.password)
        owner.page.goto(f"{server.base_url}/documents/{merger}")
        owner.page.get_by_label("Email address").fill(member.email)
        owner.page.locator("#grant-access").select_option("read")
        owner.page.get_by_role("button", name="Give access").click()
        expect(owner.page.get_by_role("status")).to_contain_text("Access was granted.")
        expect(owner.page.locator("#grants-heading + *")).not_to_have_count(0)
        owner.watch.assert_quiet()

        grantee.page.goto(f"{server.base_url}/search?q=merger")
        hits = grantee.page.locator(".search-hit")
        expect(hits).to_have_count(1)
        hits.get_by_role("link", name="Merger plan").click()
        expect(grantee.page.get_by_role("heading", level=1)).to_have_text("Merger plan")
        assert grantee.page.url == f"{server.base_url}/documents/{merger}"
        grantee.watch.assert_quiet()
