"""Dashboard sign-in (CONTRACT §5): ``POST/DELETE /api/auth/session`` and
``POST /api/auth/active-business``.

The session cookie is HttpOnly (scripts cannot read it), SameSite=Lax (other sites' POSTs do
not carry it), expires with the session and is Secure when ``NEARIQ_SESSION_COOKIE_SECURE``
is set. Sign-in itself refuses a foreign ``Origin`` when one is sent (login CSRF); sign-out and
the business switch are cookie-authenticated writes and need a dashboard origin.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.clock import iso_millis
from api.dashboard.access import load_session, refuse_api_keys
from api.dashboard.csrf import request_origin
from api.dashboard.sessions import BusinessAccess, SignedIn
from api.errors import CsrfFailed, InvalidRequest
from api.http.body import read_json_object
from api.http.responses import receipt
from api.services import Services

MAX_EMAIL_CHARS = 320
MAX_PASSWORD_CHARS = 1024


def business_view(business: BusinessAccess) -> dict[str, Any]:
    return {
        "id": business.id,
        "name": business.name,
        "role": business.role,
        "active": business.active,
        "plan": business.plan,
    }


def _string(body: dict[str, Any], name: str, max_chars: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= max_chars:
        raise InvalidRequest(f"{name} must be a string of 1-{max_chars} characters", field=name)
    return value


def set_session_cookie(response: Response, services: Services, value: str) -> None:
    settings = services.settings
    response.set_cookie(
        settings.session_cookie_name,
        value,
        max_age=settings.session_ttl_sec,
        expires=settings.session_ttl_sec,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, services: Services) -> None:
    settings = services.settings
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )


async def sign_in(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    refuse_api_keys(request)
    origin = request_origin(request.headers)
    if origin is not None and origin not in services.settings.allowed_origins:
        raise CsrfFailed(f"sign-in from {origin} is not accepted")
    body = await read_json_object(request)
    email = _string(body, "email", MAX_EMAIL_CHARS)
    password = _string(body, "password", MAX_PASSWORD_CHARS)
    signed: SignedIn = await to_thread.run_sync(services.sessions.sign_in, email, password)
    response = JSONResponse(
        {
            "user": signed.user,
            "activeBusinessId": signed.info.active_business_id,
            "businesses": [business_view(business) for business in signed.businesses],
            "expiresAt": iso_millis(signed.info.expires_at),
            "_receipt": receipt(request),
        }
    )
    set_session_cookie(response, services, signed.cookie_value)
    return response


async def sign_out(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    refuse_api_keys(request)
    info = await to_thread.run_sync(lambda: load_session(request, write=True))
    await to_thread.run_sync(services.sessions.sign_out, info.id)
    response = JSONResponse({"status": "signed_out", "_receipt": receipt(request)})
    clear_session_cookie(response, services)
    return response


async def switch_business(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    refuse_api_keys(request)
    info = await to_thread.run_sync(lambda: load_session(request, write=True))
    body = await read_json_object(request)
    business_id = _string(body, "businessId", 64)
    chosen = await to_thread.run_sync(services.sessions.switch_business, info, business_id)
    return JSONResponse({"activeBusiness": business_view(chosen), "_receipt": receipt(request)})


routes = [
    Route("/api/auth/session", sign_in, methods=["POST"]),
    Route("/api/auth/session", sign_out, methods=["DELETE"]),
    Route("/api/auth/active-business", switch_business, methods=["POST"]),
]
