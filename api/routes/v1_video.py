"""``POST /api/v1/video`` and ``GET /api/v1/video`` (CONTRACT §3), with ``X-NearIQ-Key``."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.access import (
    KEY_HEADER,
    Principal,
    authenticate_key,
    load_principal,
    require_active_business,
    require_create_video,
    require_membership,
    require_scope,
    touch_key,
)
from api.audio_config import DEFAULT_AUDIO_CONFIG
from api.credits.rules import MonthlyUsage, credits_for_duration
from api.db.models import VideoGeneration
from api.generation.start import planned_row, replay, start_generation
from api.http.body import read_json_object
from api.http.responses import json_response, receipt
from api.idempotency import parse_key
from api.services import Services
from api.validation import parse_create, parse_list_query
from api.videos import VideoPage, create_body, list_page

CREATE_ROUTE = "POST /api/v1/video"


async def principal_of(request: Request) -> Principal:
    services: Services = request.app.state.services
    return await to_thread.run_sync(
        lambda: authenticate_key(
            services.db,
            services.clock,
            request.headers.get(KEY_HEADER),
            touch_interval_sec=services.settings.key_touch_interval_sec,
        )
    )


async def create_video(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    principal = await principal_of(request)
    require_create_video(principal)
    body = await read_json_object(request)
    create = parse_create(body)
    idempotency = parse_key(request.headers.get("Idempotency-Key"), CREATE_ROUTE, body)
    if (repeat := await replay(services, principal.business_id, idempotency)) is not None:
        return repeat
    row = await planned_row(
        services,
        principal,
        create,
        audio_config=dict(DEFAULT_AUDIO_CONFIG),
        api_key_id=principal.key_id,
    )
    credits = credits_for_duration(create.duration_sec)
    stamp = receipt(request)

    def build(row: VideoGeneration, usage: MonthlyUsage) -> dict[str, object]:
        return {**create_body(row, credits, usage), "_receipt": stamp}

    return await start_generation(
        services,
        row,
        limit=principal.plan.monthly_video_credits,
        credits=credits,
        build_response=build,
        idempotency=idempotency,
    )


async def list_video(request: Request) -> JSONResponse:
    services: Services = request.app.state.services

    def answer() -> VideoPage:
        # Key, checks and page in one transaction: one connection and one BEGIN/COMMIT per
        # request (each database round trip counts in the list's tail latency).
        with services.db.session() as session:
            principal, last_used = load_principal(session, request.headers.get(KEY_HEADER))
            require_scope(principal, "content:read")
            require_active_business(principal)
            require_membership(principal)
            query = parse_list_query(request.query_params)
            page = list_page(
                session,
                services.clock,
                business_id=principal.business_id,
                status=query.status,
                limit=query.limit,
                credit_limit=principal.plan.monthly_video_credits,
                signer=services.storage,
                ttl_sec=services.settings.media_url_ttl_sec,
            )
        touch_key(
            services.db, services.clock, principal.key_id, last_used,
            services.settings.key_touch_interval_sec,
        )  # fmt: skip
        return page

    page = await to_thread.run_sync(answer)
    body = {"videos": page.videos, "total": page.total, "monthlyUsage": page.usage.to_dict()}
    return json_response(request, body)


routes = [
    Route("/api/v1/video", create_video, methods=["POST"]),
    Route("/api/v1/video", list_video, methods=["GET"]),
]
