"""The upload and search pages in a real browser (issue #14): signed in for real against
`archivist serve`, three files dropped on the upload page each show their own progress and
outcome (stored, already here, refused) and the stored one's processing until done; the
search page shows an intern a highlighted hit (never the L3 document) and takes a rating
without leaving the page. Both pages pass axe-core and fit a 375 px phone. Screenshots:
upload, search.

On the browser tests' xdist worker, as tests/web/test_browser.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import Person, open_page, save_screenshot, sign_in
from tests.support.integration_cli import Server
from tests.web.test_browser import assert_no_horizontal_scroll, axe_problems

pytestmark = pytest.mark.xdist_group("browser")

# Drops `files` ({name, text}) on the page's drop zone, as a person dragging them would.
DROP = """(files) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    transfer.items.add(new File([f.text], f.name, { type: "application/octet-stream" }));
  }
  const zone = document.querySelector("[data-dropzone]");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true }));
  }
}"""


@pytest.fixture(scope="module")
def documents(server: Server, server_admin_token: str) -> dict[str, Any]:
    """Two documents the administrator stored through the API: the travel policy (L1) and
    the merger plan (L3), both about leave."""
    made: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {server_admin_token}"}
    with httpx.Client(base_url=f"{server.base_url}/api/v1", headers=headers, timeout=10) as api:
        for title, level, content in [
            ("Travel policy", 1, "Annual leave and travel: book early, keep receipts."),
            ("Merger plan", 3, "The merger plan: leave the board informed."),
        ]:
            created = api.post(
                "/documents/text",
                json={
                    "content": content,
                    "document_type": "TXT",
                    "title": title,
                    "access_level": level,
                },
            )
            assert created.status_code == 201, created.text
            made[title] = created.json()
    return made


def test_three_dropped_files_show_their_progress_outcome_and_processing(
    server: Server, browser: Browser, people: dict[str, Person], documents: dict[str, Any]
) -> None:
    member = people["member"]
    travel = documents["Travel policy"]
    with open_page(browser) as tab:
        page = tab.page
        sign_in(page, server.base_url, member.email, member.password)
        page.goto(f"{server.base_url}/upload")
        expect(page.get_by_role("heading", level=1)).to_have_text("Upload")
        assert axe_problems(page) == []

        page.get_by_label("Tags").fill("dropped")
        page.evaluate(
            DROP,
            [
                {"name": "minutes.txt", "text": "Minutes of the planning day, by the member."},
                {"name": "copy.txt", "text": "Annual leave and travel: book early, keep receipts."},
                {"name": "tool.exe", "text": "MZ not a document"},
            ],
        )

        items = page.locator("[data-upload-list] > li")
        expect(items).to_have_count(3)
        stored = items.filter(has_text="minutes.txt")
        duplicate = items.filter(has_text="copy.txt")
        refused = items.filter(has_text="tool.exe")
        expect(stored.locator(".upload-item__outcome")).to_contain_text("Stored")
        expect(stored.locator("progress")).to_have_attribute("value", "100")
        expect(duplicate.locator(".upload-item__outcome")).to_contain_text("Already here")
        expect(duplicate.get_by_role("link")).to_have_attribute(
            "href", f"/documents/{travel['id']}"
        )
        expect(refused.locator(".upload-item__outcome")).to_contain_text(
            "File type not accepted .exe files are not accepted"
        )
        # The background work, asked for until it is done (the server's own worker).
        expect(stored.locator(".upload-processing")).to_contain_text(
            "Thumbnail: done", timeout=30_000
        )
        save_screenshot(page, "upload")

        page.set_viewport_size({"width": 375, "height": 800})
        assert_no_horizontal_scroll(tab)
        tab.watch.assert_quiet()


def test_the_search_page_shows_an_intern_a_highlighted_hit_and_takes_a_rating(
    server: Server, browser: Browser, people: dict[str, Person], documents: dict[str, Any]
) -> None:
    intern = people["intern"]
    with open_page(browser) as tab:
        page = tab.page
        sign_in(page, server.base_url, intern.email, intern.password)
        page.goto(f"{server.base_url}/search")
        page.get_by_label("Search the documents you may read").fill("annual leave")
        page.get_by_role("button", name="Search", exact=True).click()

        hits = page.locator(".search-hit")
        expect(hits).to_have_count(1)
        expect(hits.get_by_role("link")).to_have_text("Travel policy")
        expect(hits.locator("mark").first).to_have_text("Annual")
        expect(page.get_by_text("Merger plan")).to_have_count(0)
        expect(page.locator(".search-count")).to_have_text("Documents found: 1")
        assert axe_problems(page) == []
        save_screenshot(page, "search")

        url = page.url
        page.get_by_label("4", exact=True).check()
        page.get_by_role("button", name="Send rating").click()
        expect(page.locator("[data-search-rating-status]")).to_have_text(
            "Thank you: you rated these results 4 of 5. Rating again replaces it."
        )
        assert page.url == url  # the script sent it: the results stay

        page.set_viewport_size({"width": 375, "height": 800})
        assert_no_horizontal_scroll(tab)
        tab.watch.assert_quiet()
