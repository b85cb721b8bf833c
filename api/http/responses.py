"""JSON responses with the ``_receipt`` (CONTRACT §2) and the error body."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.clock import iso_millis
from api.errors import ApiError, status_for


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def receipt(request: Request) -> dict[str, str]:
    clock = request.app.state.services.clock
    return {"requestId": request_id_of(request), "generatedAt": iso_millis(clock.now())}


def json_response(
    request: Request,
    body: dict[str, Any],
    status_code: int = 200,
    *,
    with_receipt: bool = False,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    if with_receipt:
        body = {**body, "_receipt": receipt(request)}
    return JSONResponse(body, status_code=status_code, headers=headers)


def error_body(error: ApiError, request_id: str, generated_at: str) -> dict[str, Any]:
    return {
        "error": error.to_dict(),
        **error.extra,
        "_receipt": {"requestId": request_id, "generatedAt": generated_at},
    }


def error_response(request: Request, error: ApiError) -> JSONResponse:
    body = {"error": error.to_dict(), **error.extra, "_receipt": receipt(request)}
    return JSONResponse(body, status_code=status_for(error), headers=error.headers or None)
