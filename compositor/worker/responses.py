"""JSON answers and the one table from error codes to HTTP statuses (CONTRACT §2, §6).

Every response carries ``X-Request-Id`` (the client's when it is safe, else ``req_`` + random);
error bodies are ``{"error": {code, message, field}, "_receipt": {requestId, generatedAt}}``.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compositor.errors import CompositorError, InvalidJob, SourceUnavailable
from compositor.worker.records import iso_time

REQUEST_ID_HEADER = "X-Request-Id"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class HTTPError(Exception):
    """Raised by handlers to answer with an error body; mapped in one place (``app``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def status_of(error: CompositorError) -> int:
    """Errors of a job found while answering a request (before it is queued)."""
    if isinstance(error, InvalidJob | SourceUnavailable):
        return 400
    return 500


def from_compositor_error(error: CompositorError) -> HTTPError:
    return HTTPError(status_of(error), error.code, error.message, field=error.field)


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", "")) or new_request_id()


def new_request_id() -> str:
    return "req_" + secrets.token_urlsafe(12)


def error_response(error: HTTPError, request_id: str) -> JSONResponse:
    body = {
        "error": {"code": error.code, "message": error.message, "field": error.field},
        "_receipt": {"requestId": request_id, "generatedAt": iso_time(time.time())},
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


class RequestIdMiddleware:
    """Gives each request an id (in ``scope['state']``) and puts it on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
        request_id = given if SAFE_REQUEST_ID.match(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def json_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)
