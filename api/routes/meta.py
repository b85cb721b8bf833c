"""``/api/health`` (load balancers, the Docker healthcheck) and ``/api/openapi.json``."""

from __future__ import annotations

from anyio import to_thread
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.errors import ServiceUnavailable
from api.openapi import openapi_document
from api.services import Services


async def health(request: Request) -> JSONResponse:
    services: Services = request.app.state.services

    def ping() -> None:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))

    try:
        await to_thread.run_sync(ping)
    except Exception:
        raise ServiceUnavailable(
            "the database does not answer", code="database_unavailable"
        ) from None
    try:
        await to_thread.run_sync(services.provider.check)
        generation = "available"
    except ServiceUnavailable:
        generation = "unavailable"
    return JSONResponse({"status": "ok", "generation": generation})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


routes = [
    Route("/api/health", health, methods=["GET"]),
    Route("/api/openapi.json", openapi, methods=["GET"]),
]
