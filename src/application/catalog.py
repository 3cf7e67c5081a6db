"""Categories, tags and the upload policy (file types)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from uuid import UUID, uuid4

from application.context import RequestContext
from domain import events
from domain.clock import Clock
from domain.documents import (
    CATEGORY_NAME_MAX,
    DESCRIPTION_MAX,
    Category,
    FileType,
    Tag,
    tag_color,
    tag_name,
)
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.ports import UnitOfWorkFactory
from domain.values import Role, bounded_text

# type/subtype (RFC 6838 names), without parameters.
MEDIA_TYPE_RE: Final = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
)
MAX_UPLOAD_LIMIT = 1024 * 1024 * 1024  # 1 GiB: the largest per-type limit an admin may set


@dataclass(frozen=True, slots=True)
class Changes:
    values: dict[str, Any] = field(default_factory=dict)


def _description(raw: str | None) -> str:
    return bounded_text(raw or "", "description", DESCRIPTION_MAX, allow_empty=True)


class CatalogService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    # --- categories ---------------------------------------------------------------------------

    async def categories(self) -> Sequence[Category]:
        async with self._uow(autocommit=True) as uow:
            return await uow.categories.list()

    async def create_category(
        self, ctx: RequestContext, name: str, description: str | None = None
    ) -> Category:
        ctx.require_admin()
        now = self._clock.now()
        category = Category(
            uuid4(),
            bounded_text(name, "name", CATEGORY_NAME_MAX),
            _description(description),
            True,
            now,
        )
        async with self._uow() as uow:
            await uow.categories.add(category)
            await uow.events.add(
                ctx.event(events.CATEGORY_CREATED, "category", category.id, now, {"name": name})
            )
            await uow.commit()
        return category

    async def update_category(
        self, ctx: RequestContext, category_id: UUID, changes: Changes
    ) -> Category:
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            category = await uow.categories.get(category_id)
            if category is None:
                raise NotFound("category", category_id)
            for key, value in changes.values.items():
                if key == "name":
                    category.name = bounded_text(value, "name", CATEGORY_NAME_MAX)
                elif key == "description":
                    category.description = _description(value)
                elif key == "is_active":
                    if not isinstance(value, bool):
                        raise ValidationFailed.on(key, "must be true or false")
                    category.is_active = value
                else:
                    raise ValidationFailed.on(key, "cannot be changed")
            await uow.categories.update(category)
            await uow.events.add(
                ctx.event(
                    events.CATEGORY_UPDATED, "category", category.id, now, dict(changes.values)
                )
            )
            await uow.commit()
        return category

    async def delete_category(self, ctx: RequestContext, category_id: UUID) -> None:
        """Documents in it stay, without a category."""
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            category = await uow.categories.get(category_id)
            if category is None:
                raise NotFound("category", category_id)
            await uow.categories.delete(category_id)
            await uow.events.add(
                ctx.event(
                    events.CATEGORY_DELETED, "category", category_id, now, {"name": category.name}
                )
            )
            await uow.commit()

    # --- tags ---------------------------------------------------------------------------------

    async def tags(self) -> Sequence[Tag]:
        async with self._uow(autocommit=True) as uow:
            return await uow.tags.list()

    async def popular_tags(self, ctx: RequestContext, limit: int = 50) -> Sequence[tuple[Tag, int]]:
        """Tags by how many live documents the caller can read carry them."""
        if ctx.actor is None:
            raise PermissionDenied("popularity is counted for a reader")
        async with self._uow(autocommit=True) as uow:
            return await uow.tags.popular(ctx.actor, limit)

    async def create_tag(
        self,
        ctx: RequestContext,
        name: str,
        color: str | None = None,
        description: str | None = None,
    ) -> Tag:
        """Members and admins (whoever may create documents) may create tags."""
        if ctx.actor is not None and (not ctx.actor.is_active or ctx.actor.role is Role.GUEST):
            raise PermissionDenied("guests cannot create tags")
        now = self._clock.now()
        tag = Tag(uuid4(), tag_name(name), tag_color(color), _description(description), True, now)
        async with self._uow() as uow:
            await uow.tags.add(tag)
            await uow.events.add(
                ctx.event(events.TAG_CREATED, "tag", tag.id, now, {"name": tag.name})
            )
            await uow.commit()
        return tag

    async def update_tag(self, ctx: RequestContext, tag_id: UUID, changes: Changes) -> Tag:
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            tag = await uow.tags.get(tag_id)
            if tag is None:
                raise NotFound("tag", tag_id)
            for key, value in changes.values.items():
                if key == "name":
                    tag.name = tag_name(value)
                elif key == "color":
                    tag.color = tag_color(value)
                elif key == "description":
                    tag.description = _description(value)
                elif key == "is_active":
                    if not isinstance(value, bool):
                        raise ValidationFailed.on(key, "must be true or false")
                    tag.is_active = value
                else:
                    raise ValidationFailed.on(key, "cannot be changed")
            await uow.tags.update(tag)
            await uow.events.add(
                ctx.event(events.TAG_UPDATED, "tag", tag.id, now, dict(changes.values))
            )
            await uow.commit()
        return tag

    async def delete_tag(self, ctx: RequestContext, tag_id: UUID) -> None:
        ctx.require_admin()
        now = self._clock.now()
        async with self._uow() as uow:
            tag = await uow.tags.get(tag_id)
            if tag is None:
                raise NotFound("tag", tag_id)
            await uow.tags.delete(tag_id)
            await uow.events.add(
                ctx.event(events.TAG_DELETED, "tag", tag_id, now, {"name": tag.name})
            )
            await uow.commit()

    # --- file types ---------------------------------------------------------------------------

    async def file_types(self) -> Sequence[FileType]:
        async with self._uow(autocommit=True) as uow:
            return await uow.file_types.list()

    async def put_file_type(
        self,
        ctx: RequestContext,
        extension: str,
        mime_type: str,
        is_allowed: bool,
        max_size_bytes: int,
        description: str | None = None,
    ) -> FileType:
        ctx.require_admin()
        ext = extension.strip().lower().lstrip(".")
        if not ext.isalnum() or not 1 <= len(ext) <= 10 or not ext.isascii():
            raise ValidationFailed.on("extension", "must be 1-10 letters or digits")
        if not 1 <= max_size_bytes <= MAX_UPLOAD_LIMIT:
            raise ValidationFailed.on("max_size_bytes", f"must be between 1 and {MAX_UPLOAD_LIMIT}")
        mime = bounded_text(mime_type, "mime_type", 100)
        if not MEDIA_TYPE_RE.fullmatch(mime):
            # Downloads carry it as their Content-Type: it must be one.
            raise ValidationFailed.on("mime_type", "must be a media type, e.g. text/plain")
        file_type = FileType(
            ext,
            mime,
            is_allowed,
            max_size_bytes,
            _description(description),
        )
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.file_types.put(file_type)
            await uow.events.add(
                ctx.event(
                    events.FILE_TYPE_UPDATED,
                    "file_type",
                    ext,
                    now,
                    {"is_allowed": is_allowed, "max_size_bytes": max_size_bytes},
                )
            )
            await uow.commit()
        return file_type
