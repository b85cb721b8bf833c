"""``GET /api/media/{key}``: files of the local storage, by signed, expiring link.

Starlette's FileResponse answers HEAD, Range (206, 416) and conditional requests (ETag,
Last-Modified). S3 storage never routes here: its links are presigned by S3 itself.
"""

from __future__ import annotations

import mimetypes
import time

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from api.errors import BadSignature, NotFound
from api.services import Services
from compositor.signing import BadSignature as LinkSignatureError
from compositor.storage import InvalidKey
from compositor.storage.local import LocalStorage


async def media(request: Request) -> Response:
    services: Services = request.app.state.services
    storage = services.storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("no such file")
    key = request.path_params["key"]
    try:
        storage.verify(
            key, request.query_params.get("exp"), request.query_params.get("sig"), now=time.time()
        )
        path = storage.path(key)
    except LinkSignatureError as error:
        raise BadSignature(f"media link refused: {error}") from None
    except InvalidKey:
        raise NotFound("no such file") from None
    if not path.is_file():
        raise NotFound("no such file")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=300"},
        content_disposition_type="inline",
    )


routes = [Route("/api/media/{key:path}", media, methods=["GET", "HEAD"])]
