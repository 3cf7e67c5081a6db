"""Schemas of the password and session routes (`/me/password`, `/users/{id}/password`,
`/users/{id}/password-link`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.passwords import PASSWORD_MAX, PASSWORD_MIN
from interfaces.http.schemas.common import Input

# The policy's length is stated for clients; the domain checks it (and what no schema can say:
# not the user's e-mail, not a common password) with one message for the API and the pages.
_NEW: dict[str, Any] = {"minLength": PASSWORD_MIN}


class PasswordInput(Input):
    """A password is taken as typed: never stripped of spaces."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PasswordChange(PasswordInput):
    current_password: str = Field(max_length=PASSWORD_MAX)
    new_password: str = Field(max_length=PASSWORD_MAX, json_schema_extra=_NEW)


class PasswordSet(PasswordInput):
    password: str = Field(max_length=PASSWORD_MAX, json_schema_extra=_NEW)


class PasswordLinkIssued(BaseModel):
    user_id: UUID
    token: str = Field(description="The link's secret. Shown this once; the server keeps a hash.")
    path: str = Field(description="The web page that sets the password: `/set-password?token=…`.")
    url: str | None = Field(
        description="`path` on ARCHIVIST_PUBLIC_URL; null when that is not set."
    )
    expires_at: datetime
