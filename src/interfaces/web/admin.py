"""The administration pages (issue #14), for active administrators only: anyone else gets
the 403 page (`form_support.admin_viewer`, as the API's `admin_guard`), and the navigation
shows them no Admin entry (base.html). One module per section: users (admin_users), tokens
(admin_tokens), settings and file types (admin_settings), the audit log, jobs and uploads
(admin_activity), statistics (admin_stats); this one is the overview and the list the web
router mounts."""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Request, get
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from interfaces.web.admin_activity import AuditPages, JobPages, UploadPages
from interfaces.web.admin_settings import FileTypePages, SettingPages
from interfaces.web.admin_stats import StatsPages
from interfaces.web.admin_tokens import TokenPages
from interfaces.web.admin_users import UserPages
from interfaces.web.form_support import admin_viewer
from interfaces.web.rendering import page

ADMIN_PATH: Final = "/admin"


class AdminOverview(Controller):
    path = ADMIN_PATH
    include_in_schema = False

    @get("/")
    async def overview(self, request: Request[Any, Any, Any]) -> Template:
        """The sections of the administration, each with what it is for."""
        admin_viewer(request)
        return page(request, "admin/index.html")


ADMIN_PAGES: Final[tuple[ControllerRouterHandler, ...]] = (
    AdminOverview,
    UserPages,
    TokenPages,
    SettingPages,
    FileTypePages,
    AuditPages,
    JobPages,
    UploadPages,
    StatsPages,
)
