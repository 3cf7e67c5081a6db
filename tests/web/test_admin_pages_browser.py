"""The administration and taxonomy pages in a real browser (issue #14, must-show 1 "the
admin pages load" and 3): an administrator signed in for real against `archivist serve`
opens each of them; each loads, passes axe-core and makes the browser report nothing (no
console error, no CSP violation: the charts draw without a style attribute). Screenshots:
admin-users, admin-stats, admin-stats-375, taxonomy.

On the browser tests' xdist worker, as tests/web/test_browser.py."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import Person, open_page, save_screenshot, sign_in
from tests.support.integration_cli import Server
from tests.web.test_browser import assert_no_horizontal_scroll, axe_problems

pytestmark = pytest.mark.xdist_group("browser")

PAGES = {
    "/admin": "Administration",
    "/admin/users": "Users",
    "/admin/tokens": "API tokens",
    "/admin/settings": "Settings",
    "/admin/file-types": "File types",
    "/admin/audit": "Audit log",
    "/admin/jobs": "Background jobs",
    "/admin/uploads": "Upload attempts",
    "/admin/stats": "Statistics",
    "/taxonomy": "Taxonomy",
    "/taxonomy/review": "Review queue",
}


def seed(server: Server, admin_token: str) -> None:
    """Something for each page to show: tagged documents, a published taxonomy version
    with a classification waiting for review."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=f"{server.base_url}/api/v1", headers=headers, timeout=10) as api:
        assert api.post("/categories", json={"name": "Reports"}).status_code == 201
        made = [
            api.post(
                "/documents/text",
                json={
                    "content": f"{title}: what it says.",
                    "document_type": "TXT",
                    "title": title,
                    "tags": tags,
                    "category": "Reports",
                },
            )
            for title, tags in [("Quarterly report", ["finance", "q1"]), ("Audit", ["finance"])]
        ]
        assert [m.status_code for m in made] == [201, 201]
        assert api.post("/taxonomies", json={"version": "1.0"}).status_code == 201
        for path in ("Finance", "Finance/Reports"):
            assert api.post("/taxonomies/1.0/nodes", json={"path": path}).status_code == 201
        assert api.post("/taxonomies/1.0/publish").status_code == 200
        classified = api.post(
            f"/documents/{made[0].json()['id']}/classifications",
            json={"path": "Finance/Reports", "confidence": 0.6, "hitl_required": True},
        )
        assert classified.status_code == 201, classified.text


def test_the_admin_and_taxonomy_pages_load(
    server: Server, browser: Browser, people: dict[str, Person], server_admin_token: str
) -> None:
    seed(server, server_admin_token)
    admin = people["admin"]
    with open_page(browser) as tab:
        page = tab.page
        sign_in(page, server.base_url, admin.email, admin.password)
        for path, heading in PAGES.items():
            response = page.goto(f"{server.base_url}{path}")

            assert response is not None
            assert response.status == 200, path
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            assert axe_problems(page) == [], path
            if path == "/admin/users":
                save_screenshot(page, "admin-users")
            if path == "/admin/stats":
                expect(page.locator("#popular-tags")).to_contain_text("finance")
                save_screenshot(page, "admin-stats")
            if path == "/taxonomy":
                save_screenshot(page, "taxonomy")
        tab.watch.assert_quiet()

    with open_page(browser, width=375, height=740) as phone:
        sign_in(phone.page, server.base_url, admin.email, admin.password)
        phone.page.goto(f"{server.base_url}/admin/stats")
        assert_no_horizontal_scroll(phone)
        save_screenshot(phone.page, "admin-stats-375")
        phone.watch.assert_quiet()
