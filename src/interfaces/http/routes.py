"""Every controller under /api/v1, in one list (the app factory mounts them; the route
enumeration test walks them)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from interfaces.http.controllers.categories import CategoryController
from interfaces.http.controllers.document_bulk import DocumentBulkController
from interfaces.http.controllers.document_changes import DocumentChangeController
from interfaces.http.controllers.document_thumbnails import DocumentThumbnailController
from interfaces.http.controllers.document_uploads import DocumentUploadController
from interfaces.http.controllers.documents import DocumentController
from interfaces.http.controllers.events import EventController
from interfaces.http.controllers.file_types import FileTypeController
from interfaces.http.controllers.grants import GrantController
from interfaces.http.controllers.jobs import JobController
from interfaces.http.controllers.me import MeController
from interfaces.http.controllers.passwords import OwnPasswordController, UserAccountController
from interfaces.http.controllers.search import SearchController
from interfaces.http.controllers.settings import SettingController
from interfaces.http.controllers.stats import StatsController
from interfaces.http.controllers.tags import TagController
from interfaces.http.controllers.taxonomy import ClassificationController, TaxonomyController
from interfaces.http.controllers.tokens import TokenController
from interfaces.http.controllers.uploads import UploadController
from interfaces.http.controllers.users import UserController

API_CONTROLLERS: list[ControllerRouterHandler] = [
    MeController,
    OwnPasswordController,
    UserController,
    UserAccountController,
    TokenController,
    SettingController,
    DocumentUploadController,
    DocumentController,
    DocumentChangeController,
    DocumentBulkController,
    DocumentThumbnailController,
    GrantController,
    TagController,
    CategoryController,
    FileTypeController,
    EventController,
    UploadController,
    JobController,
    TaxonomyController,
    ClassificationController,
    SearchController,
    StatsController,
]
