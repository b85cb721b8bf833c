"""Outermost middleware: every response carries ``X-Request-Id``; a crash is a JSON 500.

Pure ASGI (no BaseHTTPMiddleware): it only touches ``http.response.start``, so streamed and
ranged file responses pass through untouched.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.clock import Clock, iso_millis
from api.errors import ApiError
from api.http.responses import error_body
from api.ids import request_id_from

log = logging.getLogger(__name__)
HEADER = "X-Request-Id"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            error = ApiError("something went wrong on our side; try again")
            body: dict[str, Any] = error_body(error, request_id, iso_millis(self.clock.now()))
            response = JSONResponse(body, status_code=500, headers={HEADER: request_id})
            await response(scope, receive, send)
