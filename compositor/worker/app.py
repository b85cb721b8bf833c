"""The Starlette application: routes, request ids, JSON errors, and the services' lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from compositor.worker import routes
from compositor.worker.responses import (
    HTTPError,
    RequestIdMiddleware,
    error_response,
    request_id_of,
)
from compositor.worker.service import Services

STATUS_CODES = {404: "not_found", 405: "method_not_allowed"}


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route) and 405, as JSON error bodies."""
    assert isinstance(exc, HTTPException)
    error = HTTPError(exc.status_code, STATUS_CODES.get(exc.status_code, "http_error"),
                      str(exc.detail), headers=dict(exc.headers or {}))  # fmt: skip
    return error_response(error, request_id_of(request.scope))


def create_app(services: Services) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        services.start()
        try:
            yield
        finally:
            services.stop()

    app = Starlette(
        routes=[
            Route("/compose", routes.post_compose, methods=["POST"]),
            Route("/compose/{job_id}", routes.get_compose, methods=["GET"]),
            Route("/composites/{name}", routes.get_composite, methods=["GET", "HEAD"]),
            Route("/healthz", routes.healthz, methods=["GET"]),
            Route("/readyz", routes.readyz, methods=["GET"]),
            Route("/metrics", routes.metrics, methods=["GET"]),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={HTTPException: http_exception},
        lifespan=lifespan,
    )
    app.state.services = services
    return app
