"""The Starlette application: routes, the error table's handler, start-up and shutdown.

``create_app(services)`` for tests and embedding; ``create_app_from_env()`` is the factory
uvicorn runs (``uvicorn --factory api.app:create_app_from_env``): it reads the settings once.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from api.db.engine import Database
from api.db.migrate import current_revision, head_revision
from api.errors import ApiError, InvalidRequest, MethodNotAllowed, NotFound
from api.http.middleware import RequestIdMiddleware
from api.http.responses import error_response
from api.routes import auth, composites, compositor_callback, dashboard_video, media, meta, v1_video
from api.services import Services, build_services
from api.settings import load_settings

log = logging.getLogger(__name__)


class DatabaseNotMigrated(RuntimeError):
    """Raised at start-up when the database schema is not at the latest migration."""


async def on_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(request, error)


async def on_http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    mapped: ApiError
    if error.status_code == 404:
        mapped = NotFound("no such route")
    elif error.status_code == 405:
        mapped = MethodNotAllowed("this route does not take that method")
    else:
        mapped = InvalidRequest(str(error.detail), code="bad_request")
    return error_response(request, mapped)


def check_schema(services: Services) -> None:
    check_schema_of(services.db)


def check_schema_of(database: Database) -> None:
    current, head = current_revision(database), head_revision()
    if current != head:
        raise DatabaseNotMigrated(
            f"the database is at migration {current or 'none'}, the code needs {head}: "
            "run `neariq db upgrade`"
        )


def create_app(
    services: Services, *, run_worker: bool = True, freeze_gc: bool = False
) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await to_thread.run_sync(check_schema, services)
        if run_worker:
            await to_thread.run_sync(services.worker.start)
            services.watcher.start()
        if freeze_gc:
            # Everything imported and built so far lives as long as the process: keep it out of
            # the cyclic GC's full collections, which otherwise walk ~100k module objects and
            # show up as 20-60 ms stalls in the list route's p99.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if run_worker:
                await to_thread.run_sync(services.watcher.stop)
                await to_thread.run_sync(services.worker.stop)
            services.close()

    app = Starlette(
        routes=[
            *v1_video.routes,
            *auth.routes,
            *dashboard_video.routes,
            *composites.routes,
            *compositor_callback.routes,
            *media.routes,
            *meta.routes,
        ],
        middleware=[Middleware(RequestIdMiddleware, clock=services.clock)],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_exception},
        lifespan=lifespan,
    )
    app.state.services = services
    return app


def create_app_from_env() -> Starlette:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(build_services(load_settings()), freeze_gc=True)
