"""Schemas of the settings routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.settings import Setting as DomainSetting
from domain.values import clip_json_value
from interfaces.http.schemas.common import Input

SettingTypeName = Literal["string", "integer", "boolean", "json"]


class SettingPut(Input):
    value: Any
    type: SettingTypeName | None = None
    description: str | None = Field(default=None, max_length=2000)
    is_public: bool | None = None


class Setting(BaseModel):
    key: str
    value: Any
    type: SettingTypeName
    description: str
    is_public: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, setting: DomainSetting) -> Setting:
        return cls(
            key=setting.key,
            value=clip_json_value(setting.value),
            type=setting.type.value,
            description=setting.description,
            is_public=setting.is_public,
            updated_at=setting.updated_at,
        )
