"""Schemas of the grants routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.documents import Permission as DomainPermission
from interfaces.http.schemas.common import Input

AccessName = Literal["read", "write", "delete"]


class Permission(BaseModel):
    id: UUID
    user_id: UUID
    document_id: UUID
    access: AccessName
    granted_by: UUID | None
    granted_at: datetime

    @classmethod
    def of(cls, permission: DomainPermission) -> Permission:
        return cls(
            id=permission.id,
            user_id=permission.user_id,
            document_id=permission.document_id,
            access=permission.access.label,
            granted_by=permission.granted_by,
            granted_at=permission.granted_at,
        )


class PermissionPut(Input):
    access: AccessName = Field(description="Ordered: delete implies write, write implies read.")
