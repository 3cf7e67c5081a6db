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
        description="The settings you may see, ordered by key: the public ones for every user, "
        "all of them for admins. Known keys never written show their defaults.",
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
        description="One setting by key. A key that does not exist, or a private one asked by a "
        "non-admin, is 404; a malformed key is 400 or 422.",
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
        description="Creates or replaces a setting (value, type, description, whether it is "
        "public). Known keys keep their type and range (422 otherwise). Admins only (403 "
        "otherwise).",
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
