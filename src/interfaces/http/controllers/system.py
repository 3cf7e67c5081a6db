"""Unauthenticated probes: liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel


class Health(BaseModel):
    status: str
    detail: str | None = None


class SystemController(Controller):
    path = "/"
    tags = ["system"]

    @get(
        "/health",
        operation_id="health",
        summary="The process is up",
        description="Liveness: answers 200 while the process runs, without touching the "
        "database. No token needed.",
        security=[],
    )
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        operation_id="ready",
        summary="The database answers and its schema is at the migrations' head",
        description="Readiness: 200 when the database answers and its schema is at the "
        "migrations' head, else 503 with the reason in `detail` (a load balancer should stop "
        "sending traffic). No token needed.",
        security=[],
        responses={
            503: ResponseSpec(
                data_container=Health, description="Not ready", generate_examples=False
            )
        },
    )
    async def ready(self, state: State) -> Response[Any]:
        ok, detail = await state.container.readiness().check()
        return Response(
            Health(status="ok" if ok else "unavailable", detail=detail),
            status_code=200 if ok else 503,
        )
