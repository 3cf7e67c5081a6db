"""The administration pages over HTTP (issue #14): only administrators see them (everyone
else gets the 403 page); users are added, changed, deactivated, given a password or a
set-password link and signed out everywhere; tokens are issued (the secret shown once) and
revoked; settings and file types are changed; refused forms come back with the API's
messages beside their fields. Everything through the same use cases as the API, on a memory
container (tests/web/documents_site.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import pytest

from application.context import RequestContext
from domain.pagination import PageRequest
from domain.users import UserFilter
from tests.web.documents_site import Site, open_site

ADMIN_PAGES = (
    "/admin",
    "/admin/users",
    "/admin/tokens",
    "/admin/settings",
    "/admin/file-types",
    "/admin/audit",
    "/admin/jobs",
    "/admin/uploads",
    "/admin/stats",
)
SYSTEM = RequestContext.system()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    await opened.person("mia", access_level=2, department="Sales")
    await opened.person("gus", role="guest")
    await opened.person("ian")  # an intern: L1
    async with client:
        yield opened


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert found is not None
    return unescape(found.group(1).strip())


def field_error(html: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', html)
    return unescape(found.group(1)) if found else None


def user_names(html: str) -> list[str]:
    return [
        unescape(n)
        for n in re.findall(r'<th scope="row"><a href="/admin/users/[0-9a-f-]+">([^<]*)</a>', html)
    ]


# --- who may see them -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_each_admin_page_loads_for_an_administrator(site: Site, path: str) -> None:
    response = await site.as_("admin").client.get(path)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert '<link rel="stylesheet" href="/static/admin.css">' in response.text
    assert 'class="admin-tabs"' in response.text


@pytest.mark.parametrize("who", ["mia", "gus", "ian"])
@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_no_one_but_an_administrator_sees_an_admin_page(
    site: Site, who: str, path: str
) -> None:
    response = await site.as_(who).client.get(path)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert heading(response.text) == "Not allowed"
    assert "admin-tabs" not in response.text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/users", {"email": "x@example.com", "name": "X"}),
        ("/admin/tokens", {"name": "t"}),
        ("/admin/settings", {"key": "trash_retention_days", "type": "integer", "value": "1"}),
        ("/admin/file-types", {"extension": "exe", "mime_type": "a/b", "max_size_bytes": "9"}),
    ],
)
async def test_a_member_cannot_change_anything_by_posting(
    site: Site, path: str, data: dict[str, str]
) -> None:
    before = await site.container.settings().get(SYSTEM, "trash_retention_days")

    response = await site.as_("mia").post(path, data)

    assert response.status_code == 403
    users = await site.container.users().list(SYSTEM, UserFilter(), PageRequest(50))
    assert "x@example.com" not in {u.email for u in users.items}
    assert (await site.container.settings().get(SYSTEM, "trash_retention_days")) == before
    assert "exe" not in {f.extension for f in await site.container.catalog().file_types()}


async def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    response = await site.as_("admin").client.post(
        "/admin/users", data={"email": "x@example.com", "name": "X"}
    )

    assert response.status_code == 403
    users = await site.container.users().list(SYSTEM, UserFilter(), PageRequest(50))
    assert "x@example.com" not in {u.email for u in users.items}


# --- users --------------------------------------------------------------------------------------


async def test_a_created_user_appears_in_the_list(site: Site) -> None:
    created = await site.as_("admin").post(
        "/admin/users",
        {
            "email": "Nia@Example.com",
            "name": "Nia",
            "department": "Legal",
            "role": "member",
            "access_level": "2",
        },
    )

    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/admin/users/[0-9a-f-]{36}\?done=created", location)
    page = await site.client.get(location)
    assert heading(page.text) == "Nia"
    assert "The user was added." in page.text
    listing = await site.client.get("/admin/users")
    assert "Nia" in user_names(listing.text)
    assert "nia@example.com" in listing.text
    stored = await site.container.users().list(SYSTEM, UserFilter(), PageRequest(50))
    nia = next(u for u in stored.items if u.email == "nia@example.com")
    assert (nia.department, int(nia.access_level), nia.role.value) == ("Legal", 2, "member")


async def test_the_list_filters_by_role_department_and_state(site: Site) -> None:
    await site.as_("admin").post(f"/admin/users/{site.people['gus'].id}/active", {"active": "no"})

    admins = await site.client.get("/admin/users", params={"role": "admin"})
    sales = await site.client.get("/admin/users", params={"department": "Sales"})
    inactive = await site.client.get("/admin/users", params={"active": "no"})
    active_guests = await site.client.get("/admin/users", params={"role": "guest", "active": "yes"})

    assert user_names(admins.text) == ["Admin"]
    assert user_names(sales.text) == ["Mia"]
    assert user_names(inactive.text) == ["Gus"]
    assert user_names(active_guests.text) == []
    assert "No user matches these filters." in active_guests.text
    assert '<option value="guest" selected>Guest</option>' in active_guests.text


async def test_a_bad_filter_is_shown_on_its_field(site: Site) -> None:
    response = await site.as_("admin").client.get("/admin/users", params={"role": "boss"})

    assert response.status_code == 422
    assert field_error(response.text, "filter-role") == "must be one of guest, member, admin"


@pytest.mark.parametrize(
    ("data", "field_id", "message", "status"),
    [
        (
            {"email": "not-an-address", "name": "N"},
            "new-email",
            "is not a valid email address",
            422,
        ),
        ({"email": "mia@example.com", "name": "N"}, "new-email", None, 409),
        ({"email": "n@example.com", "name": ""}, "new-name", None, 422),
        (
            {"email": "n@example.com", "name": "N", "access_level": "4"},
            "new-level",
            "Input should be less than or equal to 3",
            422,
        ),
    ],
)
async def test_a_refused_new_user_comes_back_with_the_apis_message_on_the_field(
    site: Site, data: dict[str, str], field_id: str, message: str | None, status: int
) -> None:
    response = await site.as_("admin").post("/admin/users", {"role": "member", **data})

    assert response.status_code == status
    shown = field_error(response.text, field_id)
    assert shown is not None
    if message is not None:
        assert shown == message
    # What was typed is kept.
    assert f'value="{data["email"]}"' in response.text


async def test_an_administrator_changes_a_users_role_clearance_and_department(site: Site) -> None:
    mia = site.people["mia"]

    response = await site.as_("admin").post(
        f"/admin/users/{mia.id}",
        {"name": "Mia", "department": "", "role": "admin", "access_level": "3"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{mia.id}?done=updated"
    changed = await site.container.users().get(SYSTEM, mia.id)
    assert (changed.department, int(changed.access_level), changed.role.value) == (None, 3, "admin")


async def test_the_last_administrator_cannot_be_demoted(site: Site) -> None:
    admin = site.people["admin"]

    response = await site.as_("admin").post(
        f"/admin/users/{admin.id}", {"name": "Admin", "role": "member", "access_level": "3"}
    )

    assert response.status_code == 409
    assert field_error(response.text, "edit-role") == (
        "the last active administrator cannot be deactivated or demoted"
    )
    assert '<option value="member" selected>Member</option>' in response.text
    assert (await site.container.users().get(SYSTEM, admin.id)).role.value == "admin"


async def test_deactivating_ends_sessions_and_reactivating_restores(site: Site) -> None:
    mia = site.people["mia"]
    await site.container.passwords().set_password(SYSTEM, mia.id, "a long passphrase 42")
    await site.container.accounts().sign_in("mia@example.com", "a long passphrase 42", SYSTEM)

    off = await site.as_("admin").post(f"/admin/users/{mia.id}/active", {"active": "no"})
    page = await site.client.get(off.headers["location"])
    on = await site.post(f"/admin/users/{mia.id}/active", {"active": "yes"})

    assert off.headers["location"] == f"/admin/users/{mia.id}?done=deactivated"
    assert "The user was deactivated" in page.text
    assert 'name="active" value="yes"' in page.text  # the button now reactivates
    assert await site.container.accounts().list_sessions(SYSTEM, mia.id) == []
    assert on.headers["location"] == f"/admin/users/{mia.id}?done=reactivated"
    assert (await site.container.users().get(SYSTEM, mia.id)).is_active


async def test_a_password_the_policy_refuses_is_shown_on_the_field_and_not_echoed(
    site: Site,
) -> None:
    mia = site.people["mia"]

    response = await site.as_("admin").post(
        f"/admin/users/{mia.id}/password", {"password": "short pw"}
    )

    assert response.status_code == 422
    assert field_error(response.text, "new-password") is not None
    assert "short pw" not in response.text


async def test_a_set_password_signs_in(site: Site) -> None:
    mia = site.people["mia"]

    response = await site.as_("admin").post(
        f"/admin/users/{mia.id}/password", {"password": "a long passphrase 42"}
    )
    signed_in = await site.container.accounts().sign_in(
        "mia@example.com", "a long passphrase 42", SYSTEM
    )

    assert response.headers["location"] == f"/admin/users/{mia.id}?done=password_set"
    assert signed_in.user.id == mia.id


async def test_a_set_password_link_is_shown_once_and_works(site: Site) -> None:
    mia = site.people["mia"]

    issued = await site.as_("admin").post(f"/admin/users/{mia.id}/password-link", {})
    again = await site.client.get(f"/admin/users/{mia.id}")

    assert issued.status_code == 201
    found = re.search(
        r'id="password-link"[^>]*>(http://testserver\.local/set-password\?token=[^<]+)<',
        issued.text,
    )
    assert found is not None
    secret = unescape(found.group(1)).split("token=", 1)[1]
    assert (await site.container.passwords().password_link_user(secret)).id == mia.id
    assert secret not in again.text
    assert 'id="password-link"' not in again.text


async def test_signing_a_user_out_everywhere_ends_their_sessions(site: Site) -> None:
    mia = site.people["mia"]
    await site.container.passwords().set_password(SYSTEM, mia.id, "a long passphrase 42")
    for _ in range(2):
        await site.container.accounts().sign_in("mia@example.com", "a long passphrase 42", SYSTEM)

    response = await site.as_("admin").post(f"/admin/users/{mia.id}/sign-out", {})
    page = await site.client.get(response.headers["location"])

    assert response.headers["location"] == f"/admin/users/{mia.id}?done=signed_out&ended=2"
    assert "The user was signed out everywhere (sessions ended: 2)." in page.text
    assert await site.container.accounts().list_sessions(SYSTEM, mia.id) == []


# --- tokens -------------------------------------------------------------------------------------


async def test_an_issued_tokens_secret_is_shown_once(site: Site) -> None:
    mia = site.people["mia"]

    issued = await site.as_("admin").post(
        "/admin/tokens", {"name": "backup script", "expires_in_days": "30", "user_id": str(mia.id)}
    )
    found = re.search(r'id="token-secret"[^>]*>([^<]+)</code>', issued.text)
    listing = await site.client.get("/admin/tokens", params={"user_id": str(mia.id)})

    assert issued.status_code == 201
    assert found is not None
    secret = found.group(1)
    principal = await site.container.tokens().authenticate(secret)
    assert principal.user.id == mia.id
    assert "backup script" in listing.text
    assert secret not in listing.text
    assert secret[:8] in listing.text  # its prefix identifies it


async def test_the_tokens_page_shows_the_viewers_own_by_default(site: Site) -> None:
    await site.as_("admin").post("/admin/tokens", {"name": "mine"})

    response = await site.client.get("/admin/tokens")

    assert ">Tokens of Admin</h2>" in response.text
    assert '<th scope="row">mine</th>' in response.text


async def test_a_token_with_a_bad_lifetime_is_refused_on_its_field(site: Site) -> None:
    response = await site.as_("admin").post(
        "/admin/tokens", {"name": "x", "expires_in_days": "99999"}
    )

    assert response.status_code == 422
    assert field_error(response.text, "token-days") == "Input should be less than or equal to 3650"


async def test_a_revoked_token_stops_working(site: Site) -> None:
    issued = await site.as_("admin").post("/admin/tokens", {"name": "temp"})
    secret = re.search(r'id="token-secret"[^>]*>([^<]+)</code>', issued.text)
    assert secret is not None
    token_id = re.search(r'action="/admin/tokens/([0-9a-f-]+)/revoke"', issued.text)
    assert token_id is not None

    revoked = await site.post(f"/admin/tokens/{token_id.group(1)}/revoke", {})
    page = await site.client.get(revoked.headers["location"])

    assert revoked.status_code == 303
    assert "The token was revoked." in page.text
    assert "Revoked" in page.text
    with pytest.raises(Exception, match="revoked"):
        await site.container.tokens().authenticate(secret.group(1))


# --- settings and file types -------------------------------------------------------------------


async def test_an_administrator_changes_a_setting(site: Site) -> None:
    response = await site.as_("admin").post(
        "/admin/settings",
        {
            "key": "trash_retention_days",
            "type": "integer",
            "value": "14",
            "description": "Two weeks.",
            "is_public": "yes",
        },
    )
    page = await site.client.get(response.headers["location"].split("#")[0])

    assert response.status_code == 303
    stored = await site.container.settings().get(SYSTEM, "trash_retention_days")
    assert (stored.value, stored.description, stored.is_public) == (14, "Two weeks.", True)
    assert "The setting trash_retention_days was saved." in page.text
    assert 'value="14"' in page.text


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "must be at least 1"), ("ten", "must be of type integer")],
)
async def test_a_setting_out_of_its_range_is_refused_with_the_apis_message(
    site: Site, value: str, message: str
) -> None:
    response = await site.as_("admin").post(
        "/admin/settings", {"key": "trash_retention_days", "type": "integer", "value": value}
    )

    assert response.status_code == 422
    assert field_error(response.text, "setting-trash_retention_days-value") == message
    assert (await site.container.settings().get(SYSTEM, "trash_retention_days")).value == 30


async def test_a_new_setting_is_added_with_its_type(site: Site) -> None:
    response = await site.as_("admin").post(
        "/admin/settings",
        {"new": "yes", "key": "ui.banner", "type": "json", "value": '{"text": "Hi"}'},
    )
    refused = await site.post(
        "/admin/settings", {"new": "yes", "key": "Bad Key", "type": "string", "value": "x"}
    )

    assert response.status_code == 303
    assert (await site.container.settings().get(SYSTEM, "ui.banner")).value == {"text": "Hi"}
    assert refused.status_code == 422
    assert field_error(refused.text, "new-key") == (
        "must be lower-case letters, digits, '_' or '.', at most 100 characters"
    )


async def test_a_file_type_is_added_then_refused_then_accepted(site: Site) -> None:
    added = await site.as_("admin").post(
        "/admin/file-types",
        {
            "extension": ".CSV",
            "mime_type": "text/csv",
            "max_size_bytes": "1048576",
            "is_allowed": "yes",
        },
    )
    refused = await site.post("/admin/file-types/csv/allowed", {"allowed": "false"})
    page = await site.client.get(refused.headers["location"])

    assert added.headers["location"] == "/admin/file-types?done=csv"
    csv = next(f for f in await site.container.catalog().file_types() if f.extension == "csv")
    assert (csv.mime_type, csv.max_size_bytes, csv.is_allowed) == ("text/csv", 1048576, False)
    assert "The file type .csv was saved." in page.text
    assert 'aria-label="Accept .csv uploads"' in page.text
    await site.post("/admin/file-types/csv/allowed", {"allowed": "true"})
    csv = next(f for f in await site.container.catalog().file_types() if f.extension == "csv")
    assert csv.is_allowed


async def test_a_file_type_with_a_bad_media_type_is_refused_on_its_field(site: Site) -> None:
    response = await site.as_("admin").post(
        "/admin/file-types",
        {"extension": "csv", "mime_type": "csv", "max_size_bytes": "10", "is_allowed": "yes"},
    )

    assert response.status_code == 422
    assert field_error(response.text, "type-mime") == "must be a media type, e.g. text/plain"
    assert 'value="csv"' in response.text


async def test_the_admin_pages_speak_korean(site: Site) -> None:
    response = await site.as_("admin").client.get("/admin/users", headers={"Accept-Language": "ko"})

    assert '<html lang="ko">' in response.text
    assert heading(response.text) == "사용자"
