"""Runtime settings stored in the database, typed, with the known keys validated."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from domain.errors import ValidationFailed
from domain.values import JSON_MAX_BYTES, check_json_value

KEY_RE: Final = re.compile(r"^[a-z][a-z0-9_.]{0,99}$")
MAX_JSON_BYTES: Final = JSON_MAX_BYTES


class SettingType(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    JSON = "json"

    @classmethod
    def parse(cls, raw: str) -> SettingType:
        try:
            return cls(raw)
        except ValueError:
            allowed = ", ".join(t.value for t in cls)
            raise ValidationFailed.on("type", f"must be one of {allowed}") from None

    def check(self, value: Any) -> Any:
        """Return `value` if it is of this type, else raise `ValidationFailed` on `value`."""
        ok = {
            SettingType.STRING: isinstance(value, str),
            SettingType.INTEGER: isinstance(value, int) and not isinstance(value, bool),
            SettingType.BOOLEAN: isinstance(value, bool),
            SettingType.JSON: True,
        }[self]
        if not ok:
            raise ValidationFailed.on("value", f"must be of type {self.value}")
        return check_json_value(value, "value")


@dataclass(frozen=True, slots=True)
class KnownSetting:
    key: str
    type: SettingType
    default: Any
    description: str
    is_public: bool
    minimum: int | None = None
    maximum: int | None = None

    def validate(self, value: Any) -> Any:
        self.type.check(value)
        if self.minimum is not None and value < self.minimum:
            raise ValidationFailed.on("value", f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValidationFailed.on("value", f"must be at most {self.maximum}")
        return value


KNOWN_SETTINGS: Final[dict[str, KnownSetting]] = {
    s.key: s
    for s in (
        KnownSetting(
            "search_retention_days",
            SettingType.INTEGER,
            90,
            "Days a search query, its response and feedback are kept before purge.",
            is_public=True,
            minimum=1,
            maximum=3650,
        ),
        KnownSetting(
            "event_retention_days",
            SettingType.INTEGER,
            365,
            "Days the audit trail keeps views, downloads and searches before purge (changes "
            "are kept for good).",
            is_public=True,
            minimum=1,
            maximum=36500,
        ),
        KnownSetting(
            "job_log_retention_days",
            SettingType.INTEGER,
            30,
            "Days the log of finished background jobs is kept before purge (a job held as "
            "failed keeps its log until it is retried or done).",
            is_public=True,
            minimum=1,
            maximum=3650,
        ),
        KnownSetting(
            "upload_retention_days",
            SettingType.INTEGER,
            365,
            "Days the record of an upload attempt is kept before purge.",
            is_public=True,
            minimum=1,
            maximum=36500,
        ),
        KnownSetting(
            "trash_retention_days",
            SettingType.INTEGER,
            30,
            "Days a document stays in the trash before purge removes it for good.",
            is_public=True,
            minimum=1,
            maximum=3650,
        ),
        KnownSetting(
            "default_token_ttl_days",
            SettingType.INTEGER,
            90,
            "Lifetime of a new API token when the request names none.",
            is_public=True,
            minimum=1,
            maximum=3650,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: Any
    type: SettingType
    description: str
    is_public: bool
    updated_at: datetime | None

    @classmethod
    def default_of(cls, known: KnownSetting) -> Setting:
        return cls(known.key, known.default, known.type, known.description, known.is_public, None)

    @classmethod
    def define(
        cls,
        *,
        key: str,
        value: Any,
        now: datetime,
        type_: str | None = None,
        description: str | None = None,
        is_public: bool | None = None,
        previous: Setting | None = None,
    ) -> Setting:
        """Validate a write of `key`. Known keys keep their type; others need one."""
        if not KEY_RE.match(key):
            raise ValidationFailed.on(
                "key", "must be lower-case letters, digits, '_' or '.', at most 100 characters"
            )
        known = KNOWN_SETTINGS.get(key)
        if known is not None:
            if type_ is not None and type_ != known.type.value:
                raise ValidationFailed.on("type", f"{key} is of type {known.type.value}")
            known.validate(value)
            return cls(
                key,
                value,
                known.type,
                description if description is not None else known.description,
                is_public if is_public is not None else known.is_public,
                now,
            )
        if type_ is not None:
            kind = SettingType.parse(type_)
        elif previous is not None:
            kind = previous.type
        else:
            raise ValidationFailed.on("type", "is required for a new setting")
        kind.check(value)
        if description is None:
            description = previous.description if previous is not None else ""
        if is_public is None:
            is_public = previous.is_public if previous is not None else False
        return cls(key, value, kind, description, is_public, now)
