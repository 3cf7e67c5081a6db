"""Runtime settings and the upload policy for administrators (issue #14): every setting
with an edit form, a new setting, and the file types with their limits, added, changed,
accepted or refused. The same use cases as the API's settings and file types controllers:
`SettingsService` and `CatalogService`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from application.settings import SettingWrite
from domain.errors import NotFound, ValidationFailed
from domain.settings import KNOWN_SETTINGS, SettingType
from interfaces.http.schemas.file_types import FileTypePut
from interfaces.http.schemas.settings import SettingPut
from interfaces.web.form_support import (
    Fields,
    admin_viewer,
    checked,
    field_errors,
    form_fields,
    human_bytes,
    optional,
    services,
    use_case_context,
    whole_number,
    with_query,
)
from interfaces.web.rendering import page

SETTINGS_PATH: Final = "/admin/settings"
FILE_TYPES_PATH: Final = "/admin/file-types"
NEW_SETTING: Final = ""  # the form of a new setting, in `failed_key`
BOOLEANS: Final = {"true": True, "false": False}


def setting_value(raw: str, type_name: str | None) -> Any:
    """A setting's value typed in a form, as the JSON value the API would be sent."""
    kind = SettingType.parse(type_name) if type_name else SettingType.STRING
    if kind is SettingType.INTEGER:
        try:
            return int(raw.strip())
        except ValueError:
            raise ValidationFailed.on("value", "must be of type integer") from None
    if kind is SettingType.BOOLEAN:
        if raw not in BOOLEANS:
            raise ValidationFailed.on("value", "must be of type boolean")
        return BOOLEANS[raw]
    if kind is SettingType.JSON:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ValidationFailed.on("value", "must be valid JSON") from None
    return raw


def shown_value(value: Any, kind: SettingType) -> str:
    """A setting's value as its form field holds it."""
    if kind is SettingType.JSON:
        return json.dumps(value, ensure_ascii=False)
    if kind is SettingType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


class SettingPages(Controller):
    path = SETTINGS_PATH
    include_in_schema = False

    async def _settings_page(
        self,
        request: Request[Any, Any, Any],
        *,
        status: int = 200,
        failed_key: str | None = None,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Template:
        settings = await services(request).settings().list(use_case_context(request))
        done = request.query_params.get("done")
        return page(
            request,
            "admin/settings.html",
            status=status,
            settings=[
                (s, shown_value(s.value, s.type), KNOWN_SETTINGS.get(s.key)) for s in settings
            ],
            types=[t.value for t in SettingType],
            failed_key=failed_key,
            errors=Fields(errors or {}),
            values=Fields(values or {}),
            saved=done if done in {s.key for s in settings} else None,
        )

    @get("/")
    async def settings(self, request: Request[Any, Any, Any]) -> Template:
        """Every setting (administrators see the private ones too), by key."""
        admin_viewer(request)
        return await self._settings_page(request)

    @post("/", status_code=303)
    async def put(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """A setting created or replaced: the key, type, value, description and whether it
        is public, as the API's PUT /settings/{key} takes them."""
        admin_viewer(request)
        fields = await form_fields(request)
        key = fields.get("key", "").strip()
        is_new = fields.get("new") == "yes"
        try:
            type_name = optional(fields.get("type"))
            data = checked(
                SettingPut,
                {
                    "value": setting_value(fields.get("value", ""), type_name),
                    "type": type_name,
                    "description": fields.get("description"),
                    "is_public": fields.get("is_public") == "yes",
                },
            )
            await (
                services(request)
                .settings()
                .put(
                    use_case_context(request),
                    key,
                    SettingWrite(data.value, data.type, data.description, data.is_public),
                )
            )
        except ValidationFailed as error:
            return await self._settings_page(
                request,
                status=422,
                failed_key=NEW_SETTING if is_new else key,
                errors=field_errors(error),
                values=fields,
            )
        return Redirect(with_query(SETTINGS_PATH, done=key) + f"#setting-{key}", status_code=303)


class FileTypePages(Controller):
    path = FILE_TYPES_PATH
    include_in_schema = False

    async def _file_types_page(
        self,
        request: Request[Any, Any, Any],
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Template:
        file_types = await services(request).catalog().file_types()
        done = request.query_params.get("done")
        return page(
            request,
            "admin/file_types.html",
            status=status,
            file_types=list(file_types),
            size=human_bytes,
            errors=Fields(errors or {}),
            values=Fields(values or {}),
            saved=done if done in {f.extension for f in file_types} else None,
        )

    @get("/")
    async def file_types(self, request: Request[Any, Any, Any]) -> Template:
        """The upload policy: each extension with its media type and size limit."""
        admin_viewer(request)
        return await self._file_types_page(request)

    @post("/", status_code=303)
    async def put(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """A file type added or changed (as the API's PUT /file-types/{extension})."""
        admin_viewer(request)
        fields = await form_fields(request)
        try:
            size = whole_number(fields, "max_size_bytes")
            data = checked(
                FileTypePut,
                {
                    "mime_type": fields.get("mime_type", ""),
                    "is_allowed": fields.get("is_allowed") == "yes",
                    "max_size_bytes": size,
                    "description": optional(fields.get("description")),
                },
            )
            saved = (
                await services(request)
                .catalog()
                .put_file_type(
                    use_case_context(request),
                    fields.get("extension", ""),
                    data.mime_type,
                    data.is_allowed,
                    data.max_size_bytes,
                    data.description,
                )
            )
        except ValidationFailed as error:
            return await self._file_types_page(
                request, status=422, errors=field_errors(error), values=fields
            )
        return Redirect(with_query(FILE_TYPES_PATH, done=saved.extension), status_code=303)

    @post("/{extension:str}/allowed", status_code=303)
    async def allow(self, request: Request[Any, Any, Any], extension: FromPath[str]) -> Redirect:
        """A file type accepted again, or refused from now on, its limit kept."""
        admin_viewer(request)
        fields = await form_fields(request)
        wanted = fields.get("allowed")
        if wanted not in BOOLEANS:
            raise ValidationFailed.on("allowed", "must be true or false")
        catalog = services(request).catalog()
        found = next((f for f in await catalog.file_types() if f.extension == extension), None)
        if found is None:
            raise NotFound("file type", extension)
        saved = await catalog.put_file_type(
            use_case_context(request),
            found.extension,
            found.mime_type,
            BOOLEANS[wanted],
            found.max_size_bytes,
            found.description,
        )
        return Redirect(with_query(FILE_TYPES_PATH, done=saved.extension), status_code=303)
