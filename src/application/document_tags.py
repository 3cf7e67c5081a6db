"""A document's tags as the use cases take them, in one place for creating and retagging
alike: names cleaned and de-duplicated case-insensitively (the first spelling wins), and
unknown names created on first use (SPEC.md §2.4), each with its `tag.created` event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import uuid4

from application.context import RequestContext
from domain import events
from domain.documents import MAX_TAGS, Tag, tag_color, tag_name
from domain.errors import ValidationFailed
from domain.ports import UnitOfWork


def clean_tags(names: Sequence[str]) -> list[str]:
    """The names, each checked (`ValidationFailed`), without case-insensitive repeats;
    `ValidationFailed` for more than `MAX_TAGS`."""
    cleaned: dict[str, str] = {}
    for raw in names:
        name = tag_name(raw)
        cleaned.setdefault(name.lower(), name)
    if len(cleaned) > MAX_TAGS:
        raise ValidationFailed.on("tags", f"at most {MAX_TAGS} tags")
    return list(cleaned.values())


async def ensure_tags(
    uow: UnitOfWork, ctx: RequestContext, names: Sequence[str], now: datetime
) -> list[Tag]:
    """The tags with these names, creating the unknown ones (SPEC.md §2.4)."""
    if not names:
        return []
    existing = {t.name.lower(): t for t in await uow.tags.get_by_names(names)}
    out = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            wanted = Tag(uuid4(), name, tag_color(None), "", True, now)
            tag = await uow.tags.ensure(wanted)
            existing[name.lower()] = tag
            if tag.id == wanted.id:
                await uow.events.add(
                    ctx.event(events.TAG_CREATED, "tag", tag.id, now, {"name": name})
                )
        out.append(tag)
    return out
