"""Litestar providers handing the documents area's use cases to its controllers (attached
with each controller's `dependencies=`)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from application.audit import AuditLog
from application.catalog import CatalogService
from application.documents import DocumentService
from application.grants import GrantService


def provide_document_service(state: State) -> DocumentService:
    return state.container.documents()  # type: ignore[no-any-return]


def provide_catalog_service(state: State) -> CatalogService:
    return state.container.catalog()  # type: ignore[no-any-return]


def provide_grant_service(state: State) -> GrantService:
    return state.container.grants()  # type: ignore[no-any-return]


def provide_audit_log(state: State) -> AuditLog:
    return state.container.audit()  # type: ignore[no-any-return]


DOCUMENT_SERVICE = {"document_service": Provide(provide_document_service, sync_to_thread=False)}
CATALOG_SERVICE = {"catalog_service": Provide(provide_catalog_service, sync_to_thread=False)}
GRANT_SERVICE = {"grant_service": Provide(provide_grant_service, sync_to_thread=False)}
AUDIT_LOG = {"audit_log": Provide(provide_audit_log, sync_to_thread=False)}
