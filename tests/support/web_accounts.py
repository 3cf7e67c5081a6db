"""Signing in over plain HTTP for the web interface's tests: people with passwords on a
container, the forms' CSRF token read from a page, the sign-in form posted as a browser
posts it (the client keeps the cookies), and the Set-Cookie headers of a response by name."""

from __future__ import annotations

import re
from html import unescape

import httpx

from application.context import RequestContext
from application.users import CreateUser
from domain.users import User
from infrastructure.container import Container

PASSWORD = "a long and unusual passphrase"
SYSTEM = RequestContext.system()
_TOKEN = re.compile(r'<input type="hidden" name="_csrf_token" value="([^"]*)">')


async def person(
    container: Container,
    who: str,
    *,
    role: str = "member",
    access_level: int = 1,
    password: str | None = PASSWORD,
) -> User:
    """`who`@example.com, made by the system, with `password` (None: no password)."""
    user = await container.users().create(
        SYSTEM,
        CreateUser(
            email=f"{who}@example.com", name=who.title(), role=role, access_level=access_level
        ),
    )
    if password is not None:
        await container.passwords().set_password(SYSTEM, user.id, password)
    return user


def hidden_token(html: str) -> str:
    """The CSRF token the page's first form carries."""
    found = _TOKEN.search(html)
    assert found is not None, "no form with a _csrf_token on the page"
    return unescape(found.group(1))


async def form_token(client: httpx.AsyncClient, path: str = "/sign-in") -> str:
    """The token of the forms of `path` as this client sees it (an anonymous visitor gets
    the form cookie with it, which the client keeps)."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return hidden_token(response.text)


async def sign_in(
    client: httpx.AsyncClient,
    email: str,
    password: str = PASSWORD,
    *,
    next_path: str | None = None,
) -> httpx.Response:
    """The sign-in form filled and sent, as a browser does (the page first)."""
    token = await form_token(client, "/sign-in")
    data = {"_csrf_token": token, "email": email, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return await client.post("/sign-in", data=data)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The response's Set-Cookie headers, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}
