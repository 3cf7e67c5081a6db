"""The upload policy: which extensions are accepted, and how large each may be."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from application.catalog import CatalogService
from application.context import RequestContext
from interfaces.http.auth import admin_guard
from interfaces.http.openapi import EXTENSION, schema_only
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.file_types import FileType, FileTypePut


class FileTypeController(Controller):
    path = "/file-types"
    tags = ["file types"]

    @get(
        operation_id="listFileTypes",
        summary="Every file type with its upload limit",
        description="The upload policy: each accepted extension with its media type, document "
        "type and upload size limit (an upload over it is 413; another extension is 415). Any "
        "user.",
        responses=problems(401),
    )
    async def list_file_types(
        self, catalog_service: NamedDependency[CatalogService]
    ) -> ListOf[FileType]:
        return ListOf[FileType](items=[FileType.of(f) for f in await catalog_service.file_types()])

    @put(
        "/{extension:str}",
        operation_id="putFileType",
        summary="Create or change a file type (admin)",
        description="Creates or changes the file type of an extension (leading dots ignored): "
        "its media type, document type, size limit and whether it is accepted. Admins only (403 "
        "otherwise); 422 for an invalid field.",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 422),
    )
    async def put_file_type(
        self,
        data: JSONBody[FileTypePut],
        ctx: NamedDependency[RequestContext],
        catalog_service: NamedDependency[CatalogService],
        extension: str = Parameter(
            max_length=11,
            description="Lower-case, without the dot (a leading dot is ignored).",
            schema_extra=schema_only(EXTENSION),
        ),
    ) -> FileType:
        file_type = await catalog_service.put_file_type(
            ctx, extension, data.mime_type, data.is_allowed, data.max_size_bytes, data.description
        )
        return FileType.of(file_type)
