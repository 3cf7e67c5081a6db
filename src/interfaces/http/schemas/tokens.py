"""Schemas of the tokens routes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from domain.tokens import MAX_TTL_DAYS, ApiToken
from domain.values import NAME_MAX
from interfaces.http.openapi import LINE, schema_only
from interfaces.http.schemas.common import Input


class TokenCreate(Input):
    name: str = Field(min_length=1, max_length=NAME_MAX, json_schema_extra=schema_only(LINE))
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_TTL_DAYS)
    user_id: UUID | None = None


class Token(BaseModel):
    id: UUID
    user_id: UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> Token:
        return cls(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenCreated(Token):
    token: str = Field(description="The secret. Shown this once; store it now.")
