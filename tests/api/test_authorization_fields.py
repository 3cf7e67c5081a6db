"""Which `Authorization` field authenticates a request that sends several: the first, as
Litestar's `Headers.get` reads it (the middleware reads the raw ASGI headers itself)."""

from __future__ import annotations

from tests.api.conftest import API, Api, assert_unauthorized

UNKNOWN_TOKEN = "arv_" + "A" * 43  # the shape of a real secret, never issued


async def test_the_first_authorization_field_is_the_one_read(api: Api) -> None:
    good = ("Authorization", f"Bearer {api.member.secret}")
    unknown = ("Authorization", f"Bearer {UNKNOWN_TOKEN}")

    first_good = await api.client.get(f"{API}/me", headers=[good, unknown])
    first_unknown = await api.client.get(f"{API}/me", headers=[unknown, good])

    assert first_good.status_code == 200
    assert_unauthorized(first_unknown)
