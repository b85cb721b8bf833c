"""``POST /api/compositor/callback``: the worker's signed completion callback (CONTRACT §6).

Signed like every compositor request (``compositor.signing``: timestamp, method, the path as
sent, the raw body); checked against every secret in ``NEARIQ_COMPOSITOR_SECRETS`` so a
rotation never drops a callback. The body is the job's status, the same one a poll reads, and
settles the composite the same way (at most once, whoever comes first). Callbacks may arrive
more than once; every one after the first finds the composite settled and changes nothing.
"""

from __future__ import annotations

import time

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.errors import BadSignature, InvalidRequest
from api.http.body import parse_json, read_body
from api.services import Services
from api.settings import CALLBACK_PATH
from compositor.signing import BadSignature as SignatureMismatch
from compositor.signing import verify_request

MAX_CALLBACK_BYTES = 256 * 1024


def signed_path(request: Request) -> str:
    """The path as the client sent it (raw, with its query): what the signature covers."""
    scope = request.scope
    path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def callback(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    raw = await read_body(request, MAX_CALLBACK_BYTES)
    secrets = services.settings.compositor_secret_list
    if not secrets:
        raise BadSignature("compositor callbacks are not configured here")
    try:
        verify_request(
            secrets,
            dict(request.headers),
            request.method,
            signed_path(request),
            raw,
            now=time.time(),
        )
    except SignatureMismatch as error:
        raise BadSignature(f"compositor signature refused: {error}") from None
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidRequest("the callback body must be a JSON object", code="invalid_json")
    state = await to_thread.run_sync(services.composites.on_callback, body)
    return JSONResponse({"status": state.status, "creditsUsed": state.credits_used})


routes = [Route(CALLBACK_PATH, callback, methods=["POST"])]
