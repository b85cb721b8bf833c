"""Dashboard source bundles (CONTRACT §5): ``POST/GET /api/businesses/me/video`` and
``POST /api/businesses/me/video/captions``. Session-authenticated; API keys are refused."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api.audio_config import merge_audio_config
from api.credits.rules import CAPTION_CREDITS, MonthlyUsage, credits_for_duration
from api.dashboard.access import dashboard_caller, require_creator
from api.dashboard.bundle import owned_row, video_view
from api.dashboard.captions import CaptionMaker, CaptionRequest, parse_caption_request
from api.db.models import CreditEntry, VideoGeneration
from api.errors import InvalidRequest, NotReady
from api.generation.start import planned_row, replay, start_generation
from api.http.body import read_json_object
from api.http.responses import receipt
from api.idempotency import parse_key
from api.services import Services
from api.validation import parse_create

CREATE_ROUTE = "POST /api/businesses/me/video"
STYLE_CHARS = 50


def clean_style(body: dict[str, Any]) -> str | None:
    style = body.get("style")
    if style is None:
        return None
    if not isinstance(style, str) or not 1 <= len(style.strip()) <= STYLE_CHARS:
        raise InvalidRequest(f"style must be a string of 1-{STYLE_CHARS} characters", field="style")
    return style.strip()


def credits_of(session: Session, pk: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
            CreditEntry.generation_pk == pk, CreditEntry.state == "charged"
        )
    )
    return int(total or 0)


# -- POST /api/businesses/me/video ---------------------------------------------------------


async def create_bundle(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    caller = await dashboard_caller(request, write=True)
    principal = caller.principal
    require_creator(principal)
    body = await read_json_object(request)
    create = parse_create(body)
    audio = merge_audio_config(None, body.get("audioConfig"), duration_sec=create.duration_sec)
    style = clean_style(body)
    idempotency = parse_key(request.headers.get("Idempotency-Key"), CREATE_ROUTE, body)
    if (repeat := await replay(services, principal.business_id, idempotency)) is not None:
        return repeat
    row = await planned_row(services, principal, create, audio_config=audio, style=style)
    credits = credits_for_duration(create.duration_sec)
    stamp = receipt(request)

    def build(row: VideoGeneration, usage: MonthlyUsage) -> dict[str, Any]:
        return {
            "video": video_view(row, principal.plan),
            "creditsUsed": credits,
            "monthlyUsage": usage.to_dict(),
            "_receipt": stamp,
        }

    return await start_generation(
        services,
        row,
        limit=principal.plan.monthly_video_credits,
        credits=credits,
        build_response=build,
        idempotency=idempotency,
    )


# -- GET /api/businesses/me/video?id= --------------------------------------------------------


async def get_bundle(request: Request) -> Response:
    services: Services = request.app.state.services
    caller = await dashboard_caller(request, write=False)
    video_id = request.query_params.get("id")
    if not video_id:
        raise InvalidRequest("id is required", field="id")
    download = request.query_params.get("download") in ("1", "true")
    settings = services.settings

    def load() -> tuple[VideoGeneration, int]:
        with services.db.session() as session:
            row = owned_row(session, caller.principal.business_id, video_id)
            return row, credits_of(session, row.pk)

    row, credits = await to_thread.run_sync(load)
    if download:
        if row.status != "completed" or not row.video_key:
            state = "failed and has no file" if row.status == "failed" else "is still processing"
            raise NotReady(f"the video {state}", field="id")
        url = services.storage.url(row.video_key, expires_in=settings.media_url_ttl_sec)
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    view = video_view(
        row,
        caller.principal.plan,
        signer=services.storage,
        ttl_sec=settings.media_url_ttl_sec,
        credits_used=credits,
    )
    return JSONResponse({"video": view})


# -- POST /api/businesses/me/video/captions --------------------------------------------------


def composite_body(
    video_id: str, cues: list[dict[str, Any]], asked: CaptionRequest, audio: dict[str, Any]
) -> dict[str, Any]:
    """A body for ``POST /api/businesses/me/video/composite`` carrying the same cues."""
    return {
        "videoId": video_id,
        "captionCues": cues,
        "captionStyle": asked.caption_style,
        "burnIn": asked.burn_in,
        "audioConfig": audio,
        "voice": audio["voice"],
        "musicTrack": audio["musicTrack"],
    }


async def make_captions(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    caller = await dashboard_caller(request, write=True)
    principal = caller.principal
    require_creator(principal)
    asked = parse_caption_request(await read_json_object(request))
    maker = CaptionMaker(services.db, services.ledger, services.clock, services.compositor)
    made = await to_thread.run_sync(maker.make, principal, asked)
    cues = list(made.row.captions or [])
    return JSONResponse(
        {
            "videoId": made.row.id,
            "captionCues": cues,
            "captionStyle": asked.caption_style,
            "burnIn": asked.burn_in,
            "reused": not made.charged,
            "creditsUsed": CAPTION_CREDITS if made.charged else 0,
            "monthlyUsage": made.usage.to_dict(),
            "compositeBody": composite_body(made.row.id, cues, asked, made.audio),
            "_receipt": receipt(request),
        }
    )


routes = [
    Route("/api/businesses/me/video", create_bundle, methods=["POST"]),
    Route("/api/businesses/me/video", get_bundle, methods=["GET"]),
    Route("/api/businesses/me/video/captions", make_captions, methods=["POST"]),
]
