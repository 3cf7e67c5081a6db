"""A document's page over HTTP (issue #14): what it shows, and each change form calling the
API's use case — an edit or a tag change made from a stale page is refused and said so,
never written over the other change; grants by the owner and refused to others; trash,
restore and purge behind a confirmation; classification with the nearest paths on a miss."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import pytest

from application.context import RequestContext
from domain.documents import DocumentChanges
from tests.web.documents_site import Site, open_site


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    async with client:
        yield opened


def version_in(html: str, action: str) -> str:
    """The hidden version of the form posting to `action`."""
    form = re.search(rf'action="[^"]*{re.escape(action)}"[^>]*>(.*?)</form>', html, re.DOTALL)
    assert form is not None, action
    found = re.search(r'name="version" value="(\d+)"', form.group(1))
    assert found is not None
    return found.group(1)


def squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


async def test_the_page_shows_the_document_its_text_download_and_events(site: Site) -> None:
    await site.person("eve", access_level=2)
    doc = await site.document("eve", "Plan", text="First line.\nSecond line.", tags=("q3",))

    response = await site.as_("eve").client.get(f"/documents/{doc.id}")

    assert response.status_code == 200
    html = squeezed(response.text)
    assert "<h1>Plan</h1>" in html
    assert f'href="/documents/{doc.id}/file" download>Download</a>' in html
    assert '<pre class="documents-text__body" tabindex="0">First line.\nSecond line.</pre>' in html
    assert "<dt>Owner</dt><dd>You</dd>" in html
    assert "<dt>Level</dt><dd>L1</dd>" in html
    assert '<a class="documents-tag" href="/documents?tag=q3">q3</a>' in html
    assert "<td>Uploaded</td><td>You</td>" in html
    assert "<td>Viewed</td><td>You</td>" in html  # opening the page is a view, as in the API
    # The owner sees where events came from, and may change everything.
    assert '<th scope="col">From</th>' in html
    for action in ("/edit", "/tags", "/classify", "/grants", "/trash"):
        assert f'action="/documents/{doc.id}{action}"' in html


async def test_a_reader_without_rights_sees_no_forms_and_no_event_details(site: Site) -> None:
    await site.person("eve")
    await site.person("max")
    doc = await site.document("eve", "Plan")

    response = await site.as_("max").client.get(f"/documents/{doc.id}")

    assert response.status_code == 200
    html = response.text
    assert "<form" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert '<th scope="col">From</th>' not in html
    assert "127.0.0.1" not in html
    assert "<td>Another user</td>" in squeezed(html).replace("<td>Uploaded</td>", "")


async def test_an_edit_is_saved_at_the_version_the_page_showed(site: Site) -> None:
    await site.person("eve", access_level=2)
    doc = await site.document("eve", "Plan")
    page = (await site.as_("eve").client.get(f"/documents/{doc.id}")).text

    response = await site.post(
        f"/documents/{doc.id}/edit",
        {
            "version": version_in(page, "/edit"),
            "title": "Plan B",
            "access_level": "2",
            "department": "",
            "category": "",
            "source": "scanner",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/documents/{doc.id}?done=saved"
    stored = await site.current(doc.id)
    assert (stored.title, stored.access_level, stored.source, stored.version) == (
        "Plan B",
        2,
        "scanner",
        2,
    )
    shown = (await site.client.get(response.headers["location"])).text
    assert "Your changes were saved." in shown


async def test_an_edit_from_a_stale_page_is_refused_and_keeps_what_was_typed(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan")
    site.as_("eve")
    stale = (await site.client.get(f"/documents/{doc.id}")).text
    # Someone else changes the document after the page was opened.
    await site.container.document_lifecycle().update(
        RequestContext(actor=site.people["admin"]), doc.id, DocumentChanges({"title": "Theirs"})
    )

    response = await site.post(
        f"/documents/{doc.id}/edit",
        {"version": version_in(stale, "/edit"), "title": "Mine", "category": "", "source": ""},
    )

    assert response.status_code == 409
    assert "Someone else changed this document since you opened it" in response.text
    assert f'<a href="/documents/{doc.id}">Reload the document</a>' in response.text
    assert 'name="title" type="text" value="Mine"' in response.text  # the input is kept
    assert "<h1>Theirs</h1>" in response.text  # the page shows what is stored now
    assert version_in(response.text, "/edit") == "1"  # sending it again is refused again
    assert (await site.current(doc.id)).title == "Theirs"


async def test_a_refused_field_is_shown_beside_it_with_the_apis_message(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan")

    response = await site.as_("eve").post(
        f"/documents/{doc.id}/edit",
        {"version": "1", "title": "", "category": "Nope", "source": ""},
    )

    assert response.status_code == 422
    assert 'id="edit-title-error">String should have at least 1 character</p>' in response.text
    assert 'aria-invalid="true" aria-describedby="edit-title-error"' in response.text
    assert (await site.current(doc.id)).title == "Plan"


async def test_a_writer_without_the_right_to_reclassify_is_not_offered_the_level(
    site: Site,
) -> None:
    await site.person("eve")
    await site.person("max")
    doc = await site.document("eve", "Plan")
    await site.container.grants().grant(
        RequestContext(actor=site.people["eve"]), doc.id, site.people["max"].id, "write"
    )

    page = (await site.as_("max").client.get(f"/documents/{doc.id}")).text
    assert 'name="title"' in page
    assert 'name="access_level"' not in page
    refused = await site.post(
        f"/documents/{doc.id}/edit",
        {"version": "1", "title": "Plan", "access_level": "2", "category": "", "source": ""},
    )

    assert refused.status_code == 403
    assert "only the owner or an administrator may change" in refused.text
    assert (await site.current(doc.id)).access_level == 1


async def test_tags_are_added_and_removed(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan", tags=("old",))
    site.as_("eve")

    added = await site.post(f"/documents/{doc.id}/tags", {"version": "1", "tags": "q3, Review"})
    assert added.headers["location"] == f"/documents/{doc.id}?done=tagged"
    assert (await site.current(doc.id)).tags == ["Review", "old", "q3"]

    page = (await site.client.get(f"/documents/{doc.id}")).text
    removed = await site.post(
        f"/documents/{doc.id}/tags/remove", {"version": version_in(page, "/tags"), "name": "old"}
    )
    assert removed.status_code == 303
    assert (await site.current(doc.id)).tags == ["Review", "q3"]


async def test_a_tag_change_from_a_stale_page_is_reported_not_lost(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan")
    site.as_("eve")
    await site.post(f"/documents/{doc.id}/tags", {"version": "1", "tags": "first"})

    stale = await site.post(f"/documents/{doc.id}/tags", {"version": "1", "tags": "second"})

    assert stale.status_code == 409
    assert "Someone else changed this document since you opened it" in stale.text
    assert 'value="second"' in stale.text
    assert (await site.current(doc.id)).tags == ["first"]


async def test_an_intern_gets_the_same_404_for_every_route_of_an_l3_document(
    site: Site,
) -> None:
    await site.person("intern", access_level=1)
    secret = await site.document("admin", "Merger plan", access_level=3)
    site.as_("intern")

    for path, data in [
        ("/edit", {"version": "1", "title": "x", "source": ""}),
        ("/tags", {"version": "1", "tags": "x"}),
        ("/tags/remove", {"version": "1", "name": "x"}),
        ("/classify", {"path": "A"}),
        ("/grants", {"email": "intern@example.com", "access": "read"}),
        ("/grants/revoke", {"user_id": str(site.people["intern"].id)}),
        ("/trash", {"version": "1", "confirmed": "yes"}),
        ("/trash", {"version": "1"}),
        ("/purge", {"version": "1", "confirmed": "yes"}),
    ]:
        response = await site.post(f"/documents/{secret.id}{path}", data)
        assert response.status_code == 404, path
        assert "Merger" not in response.text
    assert (await site.current(secret.id)).version == 1


# --- grants ---------------------------------------------------------------------------------


async def test_the_owner_grants_access_by_email_and_revokes_it(site: Site) -> None:
    await site.person("eve", access_level=2)
    await site.person("intern", access_level=1)
    doc = await site.document("eve", "Strategy", access_level=2)
    assert (await site.as_("intern").client.get(f"/documents/{doc.id}")).status_code == 404

    granted = await site.as_("eve").post(
        f"/documents/{doc.id}/grants", {"email": "Intern@Example.com", "access": "read"}
    )
    assert granted.headers["location"] == f"/documents/{doc.id}?done=granted"
    page = squeezed((await site.client.get(f"/documents/{doc.id}")).text)
    assert '<th scope="row">Intern <span class="muted">intern@example.com</span></th>' in page
    assert "<td>Read</td>" in page

    seen = await site.as_("intern").client.get(f"/documents/{doc.id}")
    assert seen.status_code == 200
    assert 'action="/documents/' not in seen.text.split("<main", 1)[1]  # a reader only

    revoked = await site.as_("eve").post(
        f"/documents/{doc.id}/grants/revoke", {"user_id": str(site.people["intern"].id)}
    )
    assert revoked.status_code == 303
    assert (await site.as_("intern").client.get(f"/documents/{doc.id}")).status_code == 404


async def test_granting_to_an_unknown_address_says_so_beside_the_field(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Strategy")

    response = await site.as_("eve").post(
        f"/documents/{doc.id}/grants", {"email": "nobody@example.com", "access": "write"}
    )

    assert response.status_code == 422
    assert 'id="grant-email-error">user nobody@example.com was not found</p>' in response.text
    assert 'value="nobody@example.com"' in response.text
    assert '<option value="write" selected>' in response.text


async def test_grants_are_neither_shown_nor_changed_by_a_reader_who_is_not_the_owner(
    site: Site,
) -> None:
    await site.person("eve")
    await site.person("max")
    doc = await site.document("eve", "Strategy")
    await site.container.grants().grant(
        RequestContext(actor=site.people["eve"]), doc.id, site.people["max"].id, "delete"
    )
    site.as_("max")

    page = (await site.client.get(f"/documents/{doc.id}")).text
    assert "grant-email" not in page
    assert "Give access" not in page
    refused = await site.post(
        f"/documents/{doc.id}/grants", {"email": "admin@example.com", "access": "read"}
    )
    assert refused.status_code == 403
    grants = await site.container.grants().list(RequestContext(actor=site.people["eve"]), doc.id)
    assert [g.user_id for g in grants] == [site.people["max"].id]


# --- trash, restore, purge ------------------------------------------------------------------


async def test_trash_asks_first_then_restore_brings_it_back(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan")
    site.as_("eve")

    asked = await site.post(f"/documents/{doc.id}/trash", {"version": "1"})
    assert asked.status_code == 200
    assert "Move this document to the trash?" in asked.text
    assert '<input type="hidden" name="confirmed" value="yes">' in asked.text
    assert not (await site.current(doc.id)).in_trash

    trashed = await site.post(f"/documents/{doc.id}/trash", {"version": "1", "confirmed": "yes"})
    assert trashed.headers["location"] == f"/documents/{doc.id}?done=trashed"
    assert (await site.current(doc.id)).in_trash
    page = (await site.client.get(trashed.headers["location"])).text
    assert "The document was moved to the trash." in page
    assert f'action="/documents/{doc.id}/restore"' in page
    assert f'action="/documents/{doc.id}/purge"' in page
    assert f'action="/documents/{doc.id}/edit"' not in page  # no changes in the trash

    restored = await site.post(
        f"/documents/{doc.id}/restore",
        {"version": version_in(page, "/restore"), "confirmed": "yes"},
    )
    assert restored.headers["location"] == f"/documents/{doc.id}?done=restored"
    assert not (await site.current(doc.id)).in_trash


async def test_purge_is_offered_in_the_trash_only_and_to_the_owner_only(site: Site) -> None:
    await site.person("eve")
    await site.person("max")
    doc = await site.document("eve", "Plan")
    await site.container.grants().grant(
        RequestContext(actor=site.people["eve"]), doc.id, site.people["max"].id, "delete"
    )
    site.as_("eve")
    assert "/purge" not in (await site.client.get(f"/documents/{doc.id}")).text
    await site.post(f"/documents/{doc.id}/trash", {"version": "1", "confirmed": "yes"})

    # A holder of a delete grant may restore, not purge.
    as_max = (await site.as_("max").client.get(f"/documents/{doc.id}")).text
    assert "/restore" in as_max
    assert "/purge" not in as_max
    refused = await site.post(f"/documents/{doc.id}/purge", {"version": "2", "confirmed": "yes"})
    assert refused.status_code == 403

    purged = await site.as_("eve").post(
        f"/documents/{doc.id}/purge", {"version": "2", "confirmed": "yes"}
    )
    assert purged.headers["location"] == "/documents?deleted=true&done=purged"
    assert (await site.client.get(f"/documents/{doc.id}")).status_code == 404
    listing = await site.client.get(purged.headers["location"])
    assert "The document was deleted for good." in listing.text


async def test_a_stale_trash_is_refused(site: Site) -> None:
    await site.person("eve")
    doc = await site.document("eve", "Plan")
    site.as_("eve")
    await site.post(f"/documents/{doc.id}/tags", {"version": "1", "tags": "x"})

    response = await site.post(f"/documents/{doc.id}/trash", {"version": "1", "confirmed": "yes"})

    assert response.status_code == 409
    assert "Someone else changed this document" in response.text
    assert not (await site.current(doc.id)).in_trash


# --- classification -------------------------------------------------------------------------


async def _published_taxonomy(site: Site) -> None:
    system = RequestContext.system()
    taxonomy = site.container.taxonomy()
    await taxonomy.create_version(system, "1.0")
    for path in ("Finance", "Finance/Invoices", "Finance/Budgets", "Legal"):
        await taxonomy.add_node(system, "1.0", path)
    await taxonomy.publish(system, "1.0")


async def test_classifying_to_an_unknown_path_offers_the_nearest_ones(site: Site) -> None:
    await _published_taxonomy(site)
    await site.person("eve")
    doc = await site.document("eve", "Invoice 7")
    site.as_("eve")

    missed = await site.post(f"/documents/{doc.id}/classify", {"path": "Finance/Invoice"})

    assert missed.status_code == 422
    assert "no node &#39;Finance/Invoice&#39; in taxonomy 1.0" in missed.text
    offered = re.findall(r"Classify as ([^<]+)</button>", missed.text)
    assert "Finance/Invoices" in [unescape(p) for p in offered]
    assert 'value="Finance/Invoice"' in missed.text  # what was typed is kept

    chosen = await site.post(f"/documents/{doc.id}/classify", {"path": "Finance/Invoices"})
    assert chosen.headers["location"] == f"/documents/{doc.id}?done=classified"
    page = (await site.client.get(f"/documents/{doc.id}")).text
    assert ">Finance/Invoices</a>" in page
    listing = await site.client.get("/documents?taxonomy=Finance")
    assert "Invoice 7" in listing.text
