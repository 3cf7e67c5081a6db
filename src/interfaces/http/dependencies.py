"""Small Litestar providers handing the container's use cases to handlers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from application.context import Principal, RequestContext
from application.settings import SettingsService
from application.tokens import TokenService
from application.users import UserService
from interfaces.http.auth import client_ip


def provide_context(request: Request[Principal, Any, Any]) -> RequestContext:
    return RequestContext(
        actor=request.user.user,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


def provide_user_service(state: State) -> UserService:
    return state.container.users()  # type: ignore[no-any-return]


def provide_token_service(state: State) -> TokenService:
    return state.container.tokens()  # type: ignore[no-any-return]


def provide_settings_service(state: State) -> SettingsService:
    return state.container.settings()  # type: ignore[no-any-return]


DEPENDENCIES = {
    "ctx": Provide(provide_context, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "user_service": Provide(provide_user_service, sync_to_thread=False),
    "token_service": Provide(provide_token_service, sync_to_thread=False),
    "settings_service": Provide(provide_settings_service, sync_to_thread=False),
}
