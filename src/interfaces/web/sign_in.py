"""Signing in and out in the browser, and setting a password with a one-time link.

- `GET /sign-in`, `POST /sign-in` (anonymous): the e-mail and password checked by
  `AccountService.sign_in` (which throttles and audits); on success a NEW session's cookie
  (any session the browser held is ended first: no fixation) and a 303 to `next` or the
  documents; on failure the form again (422) with one message whatever the reason, the
  e-mail kept; a throttled address gets the form with 429 and Retry-After.
- `POST /sign-out` (signed in): the session ends, the cookie goes, back to the sign-in page.
- `GET /set-password?token=…`, `POST /set-password` (anonymous): the holder of a link
  (`archivist admin create --password-link`, `admin password-link`, or the API) chooses a
  password (`PasswordService.set_password_with_link`) and signs in with it; a used, replaced
  or expired link gets a page that says so (410).

A message after a redirect travels as a `notice` code in the query (`NOTICES`), never as
text, so a link cannot make the page say anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from application.context import RequestContext
from application.passwords import SET_PASSWORD_PATH, PasswordService
from domain.errors import AuthenticationFailed, TooManyAttempts, ValidationFailed
from domain.passwords import PASSWORD_MAX, PASSWORD_MIN
from interfaces.http.auth import client_ip
from interfaces.web.access import ACCESS, Access
from interfaces.web.navigation import HOME_PATH, SIGN_IN_PATH, safe_next
from interfaces.web.rendering import Message, page, signed_in_viewer, translator
from interfaces.web.session import (
    account_service,
    ended_session_cookie,
    session_cookie,
)

SIGN_OUT_PATH: Final = "/sign-out"
FIELD_MAX: Final = 2048  # characters of a form field kept for the page (the e-mail shown again)


def notice_text(code: str | None, _: Callable[[str], str]) -> Message | None:
    """The message a `notice` code of the query stands for (unknown codes: none)."""
    notices = {
        "signed-out": Message("success", _("You are signed out.")),
        "signed-out-everywhere": Message(
            "success", _("You are signed out on every device and browser.")
        ),
        "password-set": Message("success", _("Your password is set. Sign in with it now.")),
    }
    return notices.get(code or "")


def password_problems(err: ValidationFailed, _: Callable[[str], str]) -> dict[str, str]:
    """A refused password's problems by field, as sentences in the page's language: the
    policy's known messages (`domain.passwords.check_password`) translated, any other as the
    API words it."""
    known = {
        f"must be at least {PASSWORD_MIN} characters": _("Use at least %(count)s characters.")
        % {"count": PASSWORD_MIN},
        f"must be at most {PASSWORD_MAX} characters": _("Use at most %(count)s characters.")
        % {"count": PASSWORD_MAX},
        "must not contain your e-mail address or its name": _(
            "The password must not contain your email address or the name before its @."
        ),
        "is too common: it is on a list of passwords attackers try first": _(
            "This password is too common: attackers try it first. Choose another."
        ),
        "is not your current password": _("This is not your current password."),
        "you have no password yet: ask an administrator to set one or send a link": _(
            "You have no password yet: ask an administrator to set one or to send you a link."
        ),
    }
    found = {e.field: known.get(e.message, e.message) for e in err.errors}
    return found or {"password": err.message}


def request_context(request: Request[Any, Any, Any]) -> RequestContext:
    """Who asks (the signed-in viewer, or nobody) and from where, as the API makes it."""
    viewer = signed_in_viewer(request)
    return RequestContext(
        actor=viewer.user if viewer is not None else None,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


async def form_text(request: Request[Any, Any, Any], name: str) -> str:
    """A text field of the posted form ("" when absent, or a file)."""
    value = (await request.form()).get(name)
    return value if isinstance(value, str) else ""


def password_service(request: Request[Any, Any, Any]) -> PasswordService:
    service: PasswordService = request.app.state.container.passwords()
    return service


def sign_in_page(
    request: Request[Any, Any, Any],
    *,
    next_path: str | None,
    email: str = "",
    status: int = 200,
    messages: list[Message] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return page(
        request,
        "sign_in.html",
        status=status,
        messages=messages or [],
        headers=headers,
        next_path=next_path,
        email=email[:FIELD_MAX],
    )


def too_many_attempts(
    err: TooManyAttempts, _: Callable[[str], str]
) -> tuple[Message, dict[str, str]]:
    """The message and header of a throttled address (at most a minute to wait)."""
    message = Message(
        "error", _("Too many failed attempts from this address. Wait a minute, then try again.")
    )
    return message, {"Retry-After": str(err.retry_after_seconds)}


class SignInController(Controller):
    path = "/"
    include_in_schema = False

    @get(SIGN_IN_PATH, opt={ACCESS: Access.ANONYMOUS})
    async def sign_in_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The sign-in form. Someone already signed in goes on to `next`."""
        back = safe_next(request.query_params.get("next"))
        if signed_in_viewer(request) is not None:
            return Redirect(back or HOME_PATH, status_code=303)
        notice = notice_text(request.query_params.get("notice"), translator(request))
        return sign_in_page(request, next_path=back, messages=[notice] if notice else [])

    @post(SIGN_IN_PATH, opt={ACCESS: Access.ANONYMOUS}, status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        email = await form_text(request, "email")
        password = await form_text(request, "password")
        back = safe_next(await form_text(request, "next"))
        _ = translator(request)
        accounts = account_service(request)
        ctx = request_context(request)
        try:
            signed = await accounts.sign_in(email, password, ctx)
        except AuthenticationFailed:
            wrong = Message("error", _("Wrong email address or password."))
            return sign_in_page(request, next_path=back, email=email, status=422, messages=[wrong])
        except TooManyAttempts as err:
            message, headers = too_many_attempts(err, _)
            return sign_in_page(
                request,
                next_path=back,
                email=email,
                status=429,
                messages=[message],
                headers=headers,
            )
        # No fixation: whatever session this browser held ends; the new one has a new id.
        previous = signed_in_viewer(request)
        if previous is not None and previous.session_id is not None:
            await accounts.sign_out(ctx, previous.session_id)
        lifetime = signed.session.expires_at - signed.session.created_at
        cookie = session_cookie(request, signed.secret, int(lifetime.total_seconds()))
        return Redirect(back or HOME_PATH, status_code=303, cookies=[cookie])

    @post(SIGN_OUT_PATH, status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        viewer = signed_in_viewer(request)
        if viewer is not None and viewer.session_id is not None:
            await account_service(request).sign_out(request_context(request), viewer.session_id)
        return Redirect(
            f"{SIGN_IN_PATH}?notice=signed-out",
            status_code=303,
            cookies=[ended_session_cookie(request)],
        )

    @get(SET_PASSWORD_PATH, opt={ACCESS: Access.ANONYMOUS})
    async def set_password_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The form of a set-password link, naming whose password it sets."""
        token = request.query_params.get("token") or ""
        try:
            user = await password_service(request).password_link_user(token)
        except AuthenticationFailed:
            return page(request, "set_password.html", status=410, usable=False)
        return page(
            request, "set_password.html", usable=True, token=token, email=user.email, errors={}
        )

    @post(SET_PASSWORD_PATH, opt={ACCESS: Access.ANONYMOUS}, status_code=303)
    async def set_password(self, request: Request[Any, Any, Any]) -> Response[Any]:
        token = await form_text(request, "token")
        password = await form_text(request, "password")
        again = await form_text(request, "password_again")
        passwords = password_service(request)
        _ = translator(request)
        try:
            user = await passwords.password_link_user(token)
            if password != again:
                raise ValidationFailed.on("password_again", _("The two passwords differ."))
            await passwords.set_password_with_link(token, password, request_context(request))
        except AuthenticationFailed:
            return page(request, "set_password.html", status=410, usable=False)
        except ValidationFailed as err:
            errors = password_problems(err, _)
            return page(
                request,
                "set_password.html",
                status=422,
                usable=True,
                token=token,
                email=user.email,
                errors=errors,
            )
        return Redirect(f"{SIGN_IN_PATH}?notice=password-set", status_code=303)
