"""The account page (`/account`): who you are, where you are signed in, your password.

- `GET /account`: the user's details, their sessions that have not expired (this browser's
  marked), the password form and the interface language (the footer's switch, here too).
- `POST /account/password`: the current and a new password (`PasswordService.
  change_own_password`); the other sessions end, this one stays. A refused password shows
  its problem beside its field (422); a throttled address gets 429.
- `POST /account/sessions/{id}/end`: end one of the user's other sessions.
- `POST /account/sign-out-everywhere`: end every session of the user, this one too, and go to
  the sign-in page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from babel.dates import format_datetime
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from domain.errors import TooManyAttempts, ValidationFailed
from domain.sessions import UserSession
from interfaces.web.navigation import SIGN_IN_PATH
from interfaces.web.rendering import Message, page, page_language, signed_in_viewer, translator
from interfaces.web.session import (
    Viewer,
    account_service,
    ended_session_cookie,
)
from interfaces.web.sign_in import (
    form_text,
    password_problems,
    password_service,
    request_context,
    too_many_attempts,
)

ACCOUNT_PATH: Final = "/account"
# Browsers and systems named on the sessions list, first match wins (Edge and Opera say
# "Chrome" too, Chrome says "Safari").
_BROWSERS: Final = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Whale/", "Whale"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS: Final = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One line of the sessions list, ready to show."""

    id: UUID
    current: bool
    browser: str | None
    client_ip: str | None
    signed_in: str
    last_seen: str


def browser_of(user_agent: str | None) -> str | None:
    """ "Firefox on Linux", from a User-Agent header; None when it names nothing known."""
    if not user_agent:
        return None
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system


def _when(moment: datetime, language: str) -> str:
    return format_datetime(moment, "medium", tzinfo=UTC, locale=language) + " UTC"


def session_rows(
    sessions: Sequence[UserSession], viewer: Viewer, language: str
) -> list[SessionRow]:
    """The sessions as the page lists them: this browser's first, then the newest."""
    rows = [
        SessionRow(
            id=s.id,
            current=s.id == viewer.session_id,
            browser=browser_of(s.user_agent),
            client_ip=s.client_ip,
            signed_in=_when(s.created_at, language),
            last_seen=_when(s.last_seen_at, language),
        )
        for s in sessions
    ]
    return sorted(rows, key=lambda row: not row.current)  # stable: newest first otherwise


def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    viewer = signed_in_viewer(request)
    assert viewer is not None  # SIGNED_IN routes: the admission hook let no one else in
    return viewer


def account_notice(code: str | None, _: Callable[[str], str]) -> Message | None:
    notices = {
        "password-changed": Message(
            "success", _("Your password is changed. Your other sessions have ended.")
        ),
        "session-ended": Message("success", _("That session has ended.")),
    }
    return notices.get(code or "")


class AccountController(Controller):
    path = ACCOUNT_PATH
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        *,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        messages: Sequence[Message] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Response[Any]:
        viewer = _viewer(request)
        sessions = await account_service(request).list_sessions(request_context(request))
        language = page_language(request, viewer)
        last_login = viewer.user.last_login_at
        return page(
            request,
            "account/index.html",
            status=status,
            messages=messages,
            headers=headers,
            user=viewer.user,
            last_login=_when(last_login, language) if last_login else None,
            sessions=session_rows(sessions, viewer, language),
            errors=dict(errors or {}),
        )

    @get()
    async def account(self, request: Request[Any, Any, Any]) -> Response[Any]:
        notice = account_notice(request.query_params.get("notice"), translator(request))
        return await self._page(request, messages=[notice] if notice else [])

    @post("/password", status_code=303)
    async def change_password(self, request: Request[Any, Any, Any]) -> Response[Any]:
        viewer = _viewer(request)
        current = await form_text(request, "current_password")
        new = await form_text(request, "new_password")
        again = await form_text(request, "new_password_again")
        _ = translator(request)
        try:
            if new != again:
                raise ValidationFailed.on("new_password_again", _("The two passwords differ."))
            await password_service(request).change_own_password(
                request_context(request), current, new, keep_session=viewer.session_id
            )
        except ValidationFailed as err:
            problems = password_problems(err, _)
            refused = Message("error", _("Your password was not changed."))
            return await self._page(request, status=422, errors=problems, messages=[refused])
        except TooManyAttempts as err:
            message, headers = too_many_attempts(err, _)
            return await self._page(request, status=429, messages=[message], headers=headers)
        return Redirect(f"{ACCOUNT_PATH}?notice=password-changed", status_code=303)

    @post("/sessions/{session_id:uuid}/end", status_code=303)
    async def end_session(
        self, request: Request[Any, Any, Any], session_id: FromPath[UUID]
    ) -> Response[Any]:
        """End one of the viewer's own sessions (anyone else's id, or an unknown one: the
        list again, nothing ended). Ending this browser's own is signing out."""
        ctx = request_context(request)
        accounts = account_service(request)
        own = {s.id for s in await accounts.list_sessions(ctx)}
        if session_id not in own:
            return Redirect(ACCOUNT_PATH, status_code=303)
        await accounts.sign_out(ctx, session_id)
        if session_id == _viewer(request).session_id:
            return Redirect(
                f"{SIGN_IN_PATH}?notice=signed-out",
                status_code=303,
                cookies=[ended_session_cookie(request)],
            )
        return Redirect(f"{ACCOUNT_PATH}?notice=session-ended", status_code=303)

    @post("/sign-out-everywhere", status_code=303)
    async def sign_out_everywhere(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await account_service(request).sign_out_everywhere(request_context(request))
        return Redirect(
            f"{SIGN_IN_PATH}?notice=signed-out-everywhere",
            status_code=303,
            cookies=[ended_session_cookie(request)],
        )
