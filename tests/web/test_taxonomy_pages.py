"""The taxonomy pages over HTTP (issue #14): the versions and the one in use, a version's
tree as nested lists, administrators making, filling and publishing a draft (the API's
messages on a refused field), and the review queue: only classifications of documents the
viewer may read, approved by those with write rights on the document, as the API decides."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from application.context import RequestContext
from application.taxonomy import Classify
from domain.documents import Document
from tests.web.documents_site import Site, open_site

SYSTEM = RequestContext.system()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    await opened.person("mia", access_level=2)
    await opened.person("ian")  # an intern: L1
    await opened.person("gus", role="guest")
    async with client:
        yield opened


async def published(site: Site, version: str, *paths: str) -> None:
    taxonomy = site.container.taxonomy()
    await taxonomy.create_version(SYSTEM, version)
    for path in paths:
        await taxonomy.add_node(SYSTEM, version, path)
    await taxonomy.publish(SYSTEM, version)


async def to_review(site: Site, owner: str, title: str, path: str, **fields: Any) -> Document:
    doc = await site.document(owner, title, **fields)
    await site.container.taxonomy().classify(
        RequestContext(actor=site.people[owner]), doc.id, Classify(path, 0.42, hitl_required=True)
    )
    return doc


def queued_documents(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/documents/([0-9a-f-]+)">', html)


async def test_the_versions_show_which_is_in_use_and_its_tree(site: Site) -> None:
    await published(site, "1.0", "Finance", "Finance/Budgets", "Finance/Budgets/2026", "HR")
    await published(site, "2.0", "Legal")
    await site.container.taxonomy().create_version(SYSTEM, "3.0-draft", copy_from="2.0")

    response = await site.as_("ian").client.get("/taxonomy")

    html = response.text
    assert response.status_code == 200
    assert '<link rel="stylesheet" href="/static/taxonomy.css">' in html
    versions = re.findall(r'<a href="/taxonomy\?version=[^"]+"[^>]*>([^<]+)</a>', html)
    assert versions == ["3.0-draft", "2.0", "1.0"]  # newest first
    assert re.search(r">2\.0</a>\s*<span class=\"badge\">In use</span>", html)
    assert html.count('class="badge"') == 1
    assert "The tree of version 2.0" in html  # the version in use by default
    assert (
        '<a class="tree__leaf" href="/documents?taxonomy=Legal&amp;taxonomy_version=2.0">' in html
    )
    assert "New draft version" not in html  # no administration for an intern


async def test_a_versions_tree_nests_its_nodes(site: Site) -> None:
    await published(site, "1.0", "Finance", "Finance/Budgets", "Finance/Budgets/2026", "HR")

    response = await site.as_("mia").client.get("/taxonomy", params={"version": "1.0"})

    tree = re.search(r'<ul class="tree">(.*)</ul>\s*</section>', response.text, re.DOTALL)
    assert tree is not None
    outline = re.sub(r"\s+", "", re.sub(r"<(?!/?(ul|details|summary)\b)[^>]*>", "", tree.group(1)))
    assert outline == (
        "<detailsopen><summary>Finance</summary>DocumentsunderFinance<ul>"
        "<details><summary>Budgets</summary>DocumentsunderBudgets<ul>2026</ul></details>"
        "</ul></details>HR"
    )


async def test_an_unknown_version_is_the_404_page(site: Site) -> None:
    response = await site.as_("mia").client.get("/taxonomy", params={"version": "9.9"})

    assert response.status_code == 404
    assert "Page not found" in response.text


async def test_without_any_version_the_page_says_so(site: Site) -> None:
    response = await site.as_("mia").client.get("/taxonomy")

    assert response.status_code == 200
    assert "There is no taxonomy version yet." in response.text


async def test_an_administrator_makes_fills_and_publishes_a_draft(site: Site) -> None:
    await published(site, "1.0", "Finance")
    site.as_("admin")

    created = await site.post("/taxonomy/versions", {"version": "2.0", "copy_from": "1.0"})
    added = await site.post("/taxonomy/versions/2.0/nodes", {"path": "Finance/Audits"})
    draft = await site.client.get("/taxonomy", params={"version": "2.0"})
    publish = await site.post("/taxonomy/versions/2.0/publish", {})
    after = await site.client.get(publish.headers["location"])

    assert created.headers["location"] == "/taxonomy?version=2.0&done=created"
    assert added.headers["location"] == "/taxonomy?version=2.0&done=node_added"
    assert "This version is a draft" in draft.text
    assert 'action="/taxonomy/versions/2.0/publish"' in draft.text
    assert "The version was published. It is now in use." in after.text
    assert re.search(r">2\.0</a>\s*<span class=\"badge\">In use</span>", after.text)
    assert 'action="/taxonomy/versions/2.0/nodes"' not in after.text  # frozen now
    nodes = await site.container.taxonomy().nodes("2.0")
    assert [n.canonical_path for n in nodes] == [("Finance",), ("Finance", "Audits")]


@pytest.mark.parametrize(
    ("path", "data", "field", "message"),
    [
        (
            "/taxonomy/versions",
            {"version": "no spaces"},
            "new-version",
            "must be 1-20 letters, digits, '.', '_' or '-' (e.g. 1.0.0)",
        ),
        ("/taxonomy/versions", {"version": "1.0"}, "new-version", "taxonomy version 1.0 exists"),
        (
            "/taxonomy/versions",
            {"version": "2.0", "copy_from": "0.1"},
            "copy-from",
            "taxonomy version 0.1 was not found",
        ),
        (
            "/taxonomy/versions/draft/nodes",
            {"path": "Nowhere/Child"},
            "node-path",
            "parent 'Nowhere' does not exist in draft",
        ),
        ("/taxonomy/versions/draft/nodes", {"path": "A//B"}, "node-path", "has an empty segment"),
    ],
)
async def test_a_refused_taxonomy_form_shows_the_apis_message_on_its_field(
    site: Site, path: str, data: dict[str, str], field: str, message: str
) -> None:
    await published(site, "1.0", "Finance")
    await site.container.taxonomy().create_version(SYSTEM, "draft")

    response = await site.as_("admin").post(path, data)

    assert response.status_code in {404, 409, 422}
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert found is not None
    assert found.group(1).replace("&#39;", "'") == message


async def test_only_an_administrator_changes_the_taxonomy(site: Site) -> None:
    await site.container.taxonomy().create_version(SYSTEM, "draft")

    made = await site.as_("mia").post("/taxonomy/versions", {"version": "2.0"})
    added = await site.post("/taxonomy/versions/draft/nodes", {"path": "X"})
    publish = await site.post("/taxonomy/versions/draft/publish", {})

    assert (made.status_code, added.status_code, publish.status_code) == (403, 403, 403)
    assert [v.version for v in await site.container.taxonomy().versions()] == ["draft"]
    assert await site.container.taxonomy().nodes("draft") == []


async def test_the_review_queue_holds_only_what_the_viewer_may_read(site: Site) -> None:
    await published(site, "1.0", "Finance", "HR")
    plan = await to_review(site, "mia", "Plan", "Finance")
    secret = await to_review(site, "admin", "Salaries", "HR", access_level=3)

    intern = await site.as_("ian").client.get("/taxonomy/review")
    admin = await site.as_("admin").client.get("/taxonomy/review")

    assert queued_documents(intern.text) == [str(plan.id)]
    assert str(secret.id) not in intern.text
    assert "Salaries" not in intern.text
    assert queued_documents(admin.text) == [str(plan.id), str(secret.id)]
    assert "42%" in intern.text


async def test_the_owner_approves_and_the_classification_leaves_the_queue(site: Site) -> None:
    await published(site, "1.0", "Finance")
    plan = await to_review(site, "mia", "Plan", "Finance")
    page = await site.as_("mia").client.get("/taxonomy/review")
    action = re.search(r'action="(/taxonomy/review/[^"]+/approve)"', page.text)
    assert action is not None

    approved = await site.post(action.group(1), {})
    after = await site.client.get(approved.headers["location"])

    assert approved.status_code == 303
    assert "The classification was approved and left the queue." in after.text
    assert queued_documents(after.text) == []
    [classification] = await site.container.taxonomy().classifications(
        RequestContext(actor=site.people["mia"]), plan.id
    )
    assert classification.reviewed_by == site.people["mia"].id


async def test_a_reader_without_write_rights_cannot_approve(site: Site) -> None:
    await published(site, "1.0", "Finance")
    plan = await to_review(site, "mia", "Plan", "Finance")
    [node] = await site.container.taxonomy().nodes("1.0")

    response = await site.as_("ian").post(f"/taxonomy/review/{plan.id}/{node.node_id}/approve", {})

    assert response.status_code == 403
    assert "you cannot approve its classification" in response.text
    assert queued_documents(response.text) == [str(plan.id)]


async def test_an_unreadable_documents_classification_cannot_be_approved(site: Site) -> None:
    await published(site, "1.0", "HR")
    secret = await to_review(site, "admin", "Salaries", "HR", access_level=3)
    [node] = await site.container.taxonomy().nodes("1.0")

    response = await site.as_("ian").post(
        f"/taxonomy/review/{secret.id}/{node.node_id}/approve", {}
    )

    assert response.status_code == 404
    assert "Salaries" not in response.text
