"""Runtime settings: typed reads with known defaults, validated admin writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.context import RequestContext
from domain import events
from domain.clock import Clock
from domain.errors import NotFound
from domain.ports import SettingRepository, UnitOfWorkFactory
from domain.settings import KNOWN_SETTINGS, Setting


async def effective_setting(repo: SettingRepository, key: str) -> Setting | None:
    """The stored setting, or the default of a known key, or None."""
    stored = await repo.get(key)
    if stored is not None:
        return stored
    known = KNOWN_SETTINGS.get(key)
    return Setting.default_of(known) if known is not None else None


async def effective_int(repo: SettingRepository, key: str) -> int:
    """A known integer setting's value (stored, else default)."""
    setting = await effective_setting(repo, key)
    if setting is None or not isinstance(setting.value, int):
        raise LookupError(f"{key} is not a known integer setting")
    return setting.value


@dataclass(frozen=True, slots=True)
class SettingWrite:
    value: Any
    type: str | None = None
    description: str | None = None
    is_public: bool | None = None


class SettingsService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def list(self, ctx: RequestContext) -> list[Setting]:
        """Every setting the caller may see (public ones; all for admins), ordered by key.
        Known keys never written show their defaults."""
        async with self._uow(autocommit=True) as uow:
            stored = {s.key: s for s in await uow.settings.list()}
        merged = {k: Setting.default_of(v) for k, v in KNOWN_SETTINGS.items()} | stored
        visible = (s for s in merged.values() if s.is_public or ctx.is_system_or_admin)
        return sorted(visible, key=lambda s: s.key)

    async def get(self, ctx: RequestContext, key: str) -> Setting:
        async with self._uow(autocommit=True) as uow:
            setting = await effective_setting(uow.settings, key)
        if setting is None or not (setting.is_public or ctx.is_system_or_admin):
            raise NotFound("setting", key)
        return setting

    async def put(self, ctx: RequestContext, key: str, write: SettingWrite) -> Setting:
        """Create or replace a setting (admins). Known keys keep their type and range."""
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            previous = await uow.settings.get(key)
            setting = Setting.define(
                key=key,
                value=write.value,
                type_=write.type,
                description=write.description,
                is_public=write.is_public,
                now=now,
                previous=previous,
            )
            await uow.settings.put(setting)
            await uow.events.add(
                ctx.event(
                    events.SETTING_UPDATED,
                    "setting",
                    key,
                    now,
                    {"old": previous.value if previous else None, "new": setting.value},
                )
            )
            await uow.commit()
        return setting
