from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from application.context import Principal
from interfaces.http.problems import problems
from interfaces.http.schemas.me import Me, me_of


class MeController(Controller):
    path = "/me"
    tags = ["me"]

    @get(operation_id="getMe", summary="The authenticated user", responses=problems(401))
    async def get_me(self, principal: NamedDependency[Principal]) -> Me:
        return me_of(principal)
