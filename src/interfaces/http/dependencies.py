"""The Litestar providers: who is asking (`ctx`, `principal`) and the container's use cases,
by the names handlers ask for. All of them are registered on the API router; Litestar builds
only those a handler asks for."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from application.accounts import AccountService
from application.audit import AuditLog
from application.catalog import CatalogService
from application.context import Principal, RequestContext
from application.document_bulk import DocumentBulk
from application.document_lifecycle import DocumentLifecycle
from application.document_reads import DocumentReads
from application.document_thumbnails import DocumentThumbnails
from application.document_uploads import DocumentUploads
from application.grants import GrantService
from application.job_admin import JobAdmin
from application.passwords import PasswordService
from application.processing import DocumentProcessing
from application.search import SearchService
from application.settings import SettingsService
from application.stats import StatsService
from application.taxonomy import TaxonomyService
from application.tokens import TokenService
from application.upload_log import UploadLog
from application.users import UserService
from interfaces.http.auth import client_ip


def provide_context(request: Request[Principal, Any, Any]) -> RequestContext:
    return RequestContext(
        actor=request.user.user,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


def provide_user_service(state: State) -> UserService:
    return state.container.users()  # type: ignore[no-any-return]


def provide_token_service(state: State) -> TokenService:
    return state.container.tokens()  # type: ignore[no-any-return]


def provide_password_service(state: State) -> PasswordService:
    return state.container.passwords()  # type: ignore[no-any-return]


def provide_account_service(state: State) -> AccountService:
    return state.container.accounts()  # type: ignore[no-any-return]


def provide_settings_service(state: State) -> SettingsService:
    return state.container.settings()  # type: ignore[no-any-return]


def provide_document_uploads(state: State) -> DocumentUploads:
    return state.container.document_uploads()  # type: ignore[no-any-return]


def provide_document_reads(state: State) -> DocumentReads:
    return state.container.document_reads()  # type: ignore[no-any-return]


def provide_document_lifecycle(state: State) -> DocumentLifecycle:
    return state.container.document_lifecycle()  # type: ignore[no-any-return]


def provide_document_bulk(state: State) -> DocumentBulk:
    return state.container.document_bulk()  # type: ignore[no-any-return]


def provide_document_thumbnails(state: State) -> DocumentThumbnails:
    return state.container.document_thumbnails()  # type: ignore[no-any-return]


def provide_document_processing(state: State) -> DocumentProcessing:
    return state.container.document_processing()  # type: ignore[no-any-return]


def provide_job_admin(state: State) -> JobAdmin:
    return state.container.job_admin()  # type: ignore[no-any-return]


def provide_upload_log(state: State) -> UploadLog:
    return state.container.upload_log()  # type: ignore[no-any-return]


def provide_catalog_service(state: State) -> CatalogService:
    return state.container.catalog()  # type: ignore[no-any-return]


def provide_grant_service(state: State) -> GrantService:
    return state.container.grants()  # type: ignore[no-any-return]


def provide_audit_log(state: State) -> AuditLog:
    return state.container.audit()  # type: ignore[no-any-return]


def provide_search_service(state: State) -> SearchService:
    return state.container.search()  # type: ignore[no-any-return]


def provide_stats_service(state: State) -> StatsService:
    return state.container.stats()  # type: ignore[no-any-return]


def provide_taxonomy_service(state: State) -> TaxonomyService:
    return state.container.taxonomy()  # type: ignore[no-any-return]


DEPENDENCIES = {
    "ctx": Provide(provide_context, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "user_service": Provide(provide_user_service, sync_to_thread=False),
    "token_service": Provide(provide_token_service, sync_to_thread=False),
    "password_service": Provide(provide_password_service, sync_to_thread=False),
    "account_service": Provide(provide_account_service, sync_to_thread=False),
    "settings_service": Provide(provide_settings_service, sync_to_thread=False),
    "document_uploads": Provide(provide_document_uploads, sync_to_thread=False),
    "document_reads": Provide(provide_document_reads, sync_to_thread=False),
    "document_lifecycle": Provide(provide_document_lifecycle, sync_to_thread=False),
    "document_bulk": Provide(provide_document_bulk, sync_to_thread=False),
    "document_thumbnails": Provide(provide_document_thumbnails, sync_to_thread=False),
    "upload_log": Provide(provide_upload_log, sync_to_thread=False),
    "document_processing": Provide(provide_document_processing, sync_to_thread=False),
    "job_admin": Provide(provide_job_admin, sync_to_thread=False),
    "catalog_service": Provide(provide_catalog_service, sync_to_thread=False),
    "grant_service": Provide(provide_grant_service, sync_to_thread=False),
    "audit_log": Provide(provide_audit_log, sync_to_thread=False),
    "search_service": Provide(provide_search_service, sync_to_thread=False),
    "stats_service": Provide(provide_stats_service, sync_to_thread=False),
    "taxonomy_service": Provide(provide_taxonomy_service, sync_to_thread=False),
}
