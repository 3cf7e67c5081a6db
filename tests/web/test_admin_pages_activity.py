"""The administration pages of what happened, over HTTP (issue #14): the audit log with its
filters and keyset pages, the jobs with their failures and a retry, the upload records, and
the statistics, whose numbers are those of the use cases the API's stats and search
analytics routes call; no one but an administrator reaches any of them, so an intern's
view counts no L3 document anywhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from uuid import UUID

import pytest
from dependency_injector import providers

from application.context import RequestContext
from application.document_store import DocumentFields
from application.settings import SettingWrite
from application.upload_log import UploadLog
from application.users import CreateUser
from domain.documents import DocumentType
from domain.errors import ValidationFailed
from domain.uploads import UploadSource
from tests.web.documents_site import Site, open_site

SYSTEM = RequestContext.system()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    opened, client = await open_site()
    await opened.person("mia", access_level=2)
    await opened.person("ian")  # an intern: L1
    async with client:
        yield opened


def rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table `table_id`, each as its cells' text."""
    table = re.search(rf'<table[^>]* id="{table_id}">(.*?)</table>', html, re.DOTALL)
    assert table is not None, table_id
    body = table.group(1).split("<tbody>", 1)[1]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def audit_actions(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/audit\?action=[^"]+"><code>([^<]+)</code></a>', html)


# --- the audit log ------------------------------------------------------------------------------


async def test_the_audit_log_filters_by_action_actor_and_subject(site: Site) -> None:
    mia = site.people["mia"]
    await site.container.settings().put(
        RequestContext(actor=site.people["admin"]), "trash_retention_days", SettingWrite(7)
    )
    await site.document("mia", "Plan")

    every = await site.as_("admin").client.get("/admin/audit")
    settings = await site.client.get("/admin/audit", params={"action": "setting.updated"})
    by_mia = await site.client.get("/admin/audit", params={"actor_id": str(mia.id)})
    about_mia = await site.client.get(
        "/admin/audit", params={"subject_type": "user", "subject_id": str(mia.id)}
    )

    assert set(audit_actions(every.text)) >= {
        "user.created",
        "setting.updated",
        "document.uploaded",
    }
    assert audit_actions(settings.text) == ["setting.updated"]
    assert audit_actions(by_mia.text) == ["document.uploaded"]
    assert '<a href="/admin/audit?actor_id=' + str(mia.id) + '">Mia</a>' in by_mia.text
    assert audit_actions(about_mia.text) == ["user.created"]
    assert f'value="{mia.id}"' in by_mia.text  # the filter stays filled in


async def test_the_audit_log_filters_by_day(site: Site) -> None:
    today = (await site.container.users().get(SYSTEM, site.people["mia"].id)).created_at.date()

    before = await site.as_("admin").client.get("/admin/audit", params={"until": str(today)})
    since = await site.client.get("/admin/audit", params={"since": str(today)})

    assert audit_actions(before.text) == []
    assert "No event matches these filters." in before.text
    assert audit_actions(since.text).count("user.created") == 3


@pytest.mark.parametrize(
    ("params", "field_id", "message"),
    [
        (
            {"since": "yesterday"},
            "audit-since",
            "must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z, or a date",
        ),
        ({"until": "2026-02-30"}, "audit-until", "is not a valid date"),
        ({"actor_id": "mia"}, "audit-actor", "must be a user id (a UUID)"),
    ],
)
async def test_a_bad_audit_filter_is_shown_on_its_field(
    site: Site, params: dict[str, str], field_id: str, message: str
) -> None:
    response = await site.as_("admin").client.get("/admin/audit", params=params)

    assert response.status_code == 422
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', response.text)
    assert found is not None
    assert unescape(found.group(1)) == message


async def test_the_audit_log_pages_without_skipping_or_repeating(site: Site) -> None:
    for n in range(60):
        await site.container.users().create(
            SYSTEM, CreateUser(email=f"p{n}@example.com", name=f"P{n}")
        )
    seen: list[str] = []
    path: str | None = "/admin/audit?action=user.created"
    pages = 0
    site.as_("admin")
    while path is not None:
        response = await site.client.get(path)
        seen += re.findall(r'subject_id=([0-9a-f-]{36})"', response.text)
        found = re.search(r'<a href="([^"]+)">Next page</a>', response.text)
        path = unescape(found.group(1)) if found else None
        pages += 1

    assert pages == 2
    assert len(seen) == len(set(seen)) == 63  # 60 and the site's three


# --- jobs ---------------------------------------------------------------------------------------


class RefusingThumbnails:
    async def make(self, doc_id: UUID) -> str | None:
        raise ValidationFailed.on("file", f"cannot draw {doc_id}")


async def test_a_failed_job_is_listed_and_retried(site: Site) -> None:
    doc = await site.document("mia", "Plan")
    site.container.document_thumbnails.override(providers.Object(RefusingThumbnails()))
    try:
        await site.container.job_worker().run_pending()
    finally:
        site.container.document_thumbnails.reset_override()

    page = await site.as_("admin").client.get("/admin/jobs")
    action = re.search(r'action="/admin/jobs/(\d+)/retry"', page.text)
    assert action is not None
    retried = await site.post(f"/admin/jobs/{action.group(1)}/retry", {})
    after = await site.client.get(retried.headers["location"])
    again = await site.post(f"/admin/jobs/{action.group(1)}/retry", {})

    assert f"ValidationFailed: file: cannot draw {doc.id}" in page.text
    assert retried.status_code == 303
    assert f"Job {action.group(1)} was queued again." in after.text
    assert "No job is held as failed." in after.text
    assert again.status_code == 409
    assert "there is nothing to retry" in again.text


# --- uploads ------------------------------------------------------------------------------------


async def test_the_upload_records_show_what_came_of_each_attempt(site: Site) -> None:
    log: UploadLog = site.container.upload_log()
    ctx = RequestContext(actor=site.people["mia"])
    async with log.attempt(ctx, UploadSource.TEXT) as trace:
        trace.document = await site.container.document_uploads().create_text(
            ctx, "hello", DocumentType.TXT, DocumentFields(title="Greeting")
        )
    with pytest.raises(ValidationFailed):
        async with log.attempt(ctx, UploadSource.TEXT) as trace:
            trace.filename = "empty.txt"
            await site.container.document_uploads().create_text(
                ctx, " ", DocumentType.TXT, DocumentFields(title="Empty")
            )

    every = await site.as_("admin").client.get("/admin/uploads")
    rejected = await site.client.get("/admin/uploads", params={"status": "rejected"})
    bad = await site.client.get("/admin/uploads", params={"status": "lost"})

    assert "Greeting.txt" in every.text
    assert "empty.txt" in every.text
    assert "empty.txt" in rejected.text
    assert "Greeting.txt" not in rejected.text
    assert "validation_failed" in rejected.text
    assert bad.status_code == 422


# --- statistics ---------------------------------------------------------------------------------


async def test_the_statistics_show_the_numbers_of_the_stats_use_case(site: Site) -> None:
    admin_ctx = RequestContext(actor=site.people["admin"])
    await site.container.catalog().create_category(admin_ctx, "Reports")
    await site.document("mia", "Plan", category="Reports", tags=("budget", "q1"))
    await site.document("mia", "Memo", tags=("budget",))
    await site.document("admin", "Salaries", access_level=3, category="Reports", tags=("hr",))
    await site.container.search().search(RequestContext(actor=site.people["mia"]), "budget")
    overview = await site.container.stats().overview(admin_ctx, 30, 10)
    analytics = await site.container.search().analytics(admin_ctx, 30, 10)

    response = await site.as_("admin").client.get("/admin/stats")

    html = response.text
    assert response.status_code == 200
    per_day = rows(html, "uploads-per-day-table")
    assert per_day == [[d.day.isoformat(), str(d.count)] for d in overview.uploads_per_day]
    assert sum(int(count) for _, count in per_day) == 3
    assert rows(html, "popular-tags") == [
        [t.name, "", str(t.document_count)] for t in overview.popular_tags
    ]
    assert [row[:2] for row in rows(html, "category-figures")] == [
        [c.category, str(c.document_count)] for c in overview.categories
    ]
    assert ["Reports", "2"] in [row[:2] for row in rows(html, "category-figures")]
    searches = re.search(r"<dt>Searches</dt><dd>(\d+)</dd>", html)
    assert searches is not None
    assert int(searches.group(1)) == analytics.total_queries == 1
    assert rows(html, "top-queries") == [[q, "", str(n)] for q, n in analytics.top_queries]
    # Each chart has its text: the bars' lengths are SVG attributes, never styles.
    assert 'role="img" aria-labelledby="uploads-per-day-summary"' in html
    assert "style=" not in html


@pytest.mark.parametrize("who", ["mia", "ian"])
async def test_no_one_but_an_administrator_sees_any_statistics(site: Site, who: str) -> None:
    await site.document("admin", "Salaries", access_level=3, tags=("hr",))

    for path in ("/admin/stats", "/admin/uploads", "/admin/audit", "/admin/jobs"):
        response = await site.as_(who).client.get(path)

        assert response.status_code == 403
        assert "Salaries" not in response.text
        assert ">hr<" not in response.text


async def test_a_period_out_of_range_is_refused_on_its_field(site: Site) -> None:
    response = await site.as_("admin").client.get("/admin/stats", params={"days": "400"})

    assert response.status_code == 422
    assert '<p class="field-error" id="stats-days-error">must be between 1 and 366</p>' in (
        response.text
    )
