from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from application.context import RequestContext
from application.settings import SettingsService, SettingWrite
from interfaces.http.auth import admin_guard
from interfaces.http.problems import problems
from interfaces.http.schemas.common import ListOf
from interfaces.http.schemas.settings import Setting, SettingPut

_KEY = Parameter(max_length=100, pattern=r"^[a-z][a-z0-9_.]*$")


class SettingController(Controller):
    path = "/settings"
    tags = ["settings"]

    @get(
        operation_id="listSettings",
        summary="Public settings (all of them for admins)",
        responses=problems(401),
    )
    async def list_settings(
        self,
        ctx: NamedDependency[RequestContext],
        settings_service: NamedDependency[SettingsService],
    ) -> ListOf[Setting]:
        items = await settings_service.list(ctx)
        return ListOf[Setting](items=[Setting.of(s) for s in items])

    @get(
        "/{key:str}",
        operation_id="getSetting",
        summary="One setting",
        responses=problems(400, 401, 404, 422),
    )
    async def get_setting(
        self,
        ctx: NamedDependency[RequestContext],
        settings_service: NamedDependency[SettingsService],
        key: str = _KEY,
    ) -> Setting:
        return Setting.of(await settings_service.get(ctx, key))

    @put(
        "/{key:str}",
        operation_id="putSetting",
        summary="Create or replace a setting (admin)",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 422),
    )
    async def put_setting(
        self,
        data: JSONBody[SettingPut],
        ctx: NamedDependency[RequestContext],
        settings_service: NamedDependency[SettingsService],
        key: str = _KEY,
    ) -> Setting:
        setting = await settings_service.put(
            ctx, key, SettingWrite(data.value, data.type, data.description, data.is_public)
        )
        return Setting.of(setting)
