"""Composites (CONTRACT §5): ``POST /api/businesses/me/video/composite`` (the final
commercial of one source bundle), ``POST /api/businesses/me/video/composite-clips`` (several
generated clips stitched) and ``GET /api/businesses/me/video/composite?jobToken=`` (the poll).

Order on the two POSTs: session, CSRF, business, permission and plan (``dashboard_caller``,
``require_creator``) → body (400) and sources (404, 409) → overlays the plan allows (403) →
compositor configured and narration available (503) → hold of 1 credit (429) → dispatch.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from anyio import to_thread
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.access import Principal
from api.compositing import jobs
from api.compositing.service import CompositeState, source_of
from api.compositing.tokens import job_id_of
from api.dashboard.access import dashboard_caller, require_creator
from api.db.models import VideoGeneration
from api.errors import (
    CompositorUnavailable,
    InvalidRequest,
    NarrationUnavailable,
    NotFound,
    NotReady,
)
from api.http.body import read_json_object
from api.http.responses import receipt
from api.ids import new_id
from api.services import Services
from compositor.narration import available

STATUS_ENDPOINT = "/api/businesses/me/video/composite"
UNAVAILABLE_CODES = ("compositor_unavailable", "compositor_unreachable")


def load_sources(
    services: Services, business_id: str, ids: list[str], fields: list[str]
) -> list[VideoGeneration]:
    """The rows, in order: each of the business (404) and completed (409), naming its field."""
    with services.db.session() as session:
        found = {
            row.id: row
            for row in session.scalars(
                select(VideoGeneration).where(
                    VideoGeneration.id.in_(ids), VideoGeneration.business_id == business_id
                )
            )
        }
    rows = []
    for video_id, field in zip(ids, fields, strict=True):
        row = found.get(video_id)
        if row is None:
            raise NotFound(f"no such video: {video_id}", field=field)
        rows.append(row)
    for row, field in zip(rows, fields, strict=True):
        if row.status != "completed" or not row.video_key:
            raise NotReady(f"{row.id} is {row.status}, not completed", field=field)
    return rows


def composite_row(
    services: Services,
    principal: Principal,
    *,
    row_id: str,
    prompt: str,
    duration_sec: int,
    aspect: str,
    job: dict[str, Any],
    details: dict[str, Any],
    **columns: Any,
) -> VideoGeneration:
    now = services.clock.now()
    return VideoGeneration(
        id=row_id,
        business_id=principal.business_id,
        user_id=principal.user_id,
        kind="composite",
        status="processing",
        prompt=prompt[:500],
        duration_sec=duration_sec,
        aspect_ratio=aspect,
        provider="compositor",
        attempts=0,
        details={**details, "jobId": job["jobId"], "job": job, "dispatches": 0},
        deadline_at=now + timedelta(seconds=services.settings.compositor_deadline_sec),
        **columns,
    )


def composite_view(services: Services, state: CompositeState) -> dict[str, Any] | None:
    if state.status != "completed" or not state.video_key:
        return None
    ttl = services.settings.media_url_ttl_sec
    result = state.result or {}
    return {
        "id": state.id,
        "url": services.storage.url(state.video_key, expires_in=ttl),
        "posterUrl": services.storage.url(state.thumbnail_key, expires_in=ttl)
        if state.thumbnail_key
        else None,
        "durationSec": result.get("durationSec"),
        "width": result.get("width"),
        "height": result.get("height"),
    }


async def answer_dispatch(
    request: Request, principal: Principal, row: VideoGeneration
) -> JSONResponse:
    """Hold, dispatch, and answer 200 (completed) or 202 (processing, poll the token)."""
    services: Services = request.app.state.services
    await to_thread.run_sync(services.composites.require_ready)
    state: CompositeState = await to_thread.run_sync(
        lambda: services.composites.dispatch(row, credit_limit=principal.plan.monthly_video_credits)
    )
    if state.status == "failed" and state.error and state.error["code"] in UNAVAILABLE_CODES:
        raise CompositorUnavailable("the compositor cannot be reached; nothing was charged")
    token = services.tokens.issue(state.id, principal.business_id)
    if state.status == "completed":
        usage = await to_thread.run_sync(
            services.ledger.usage, principal.business_id, principal.plan.monthly_video_credits
        )
        body = {
            "status": "completed",
            "composite": composite_view(services, state),
            "creditsUsed": state.credits_used,
            "monthlyUsage": usage.to_dict(),
            "jobToken": token,
            "statusEndpoint": STATUS_ENDPOINT,
            "_receipt": receipt(request),
        }
        return JSONResponse(body)
    # Processing, or (only when the worker was told to wait) already failed: the poll says which.
    body = {
        "status": "processing",
        "jobToken": token,
        "statusEndpoint": STATUS_ENDPOINT,
        "compositeId": state.id,
        "_receipt": receipt(request),
    }
    return JSONResponse(body, status_code=202)


# -- POST /api/businesses/me/video/composite ---------------------------------------------------


async def composite(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    settings = services.settings
    caller = await dashboard_caller(request, write=True)
    principal = caller.principal
    require_creator(principal)
    asked = jobs.parse_final_request(await read_json_object(request))
    (source_row,) = await to_thread.run_sync(
        load_sources, services, principal.business_id, [asked.video_id], ["videoId"]
    )
    if source_row.kind != "generation":
        raise InvalidRequest("composites are made from source videos", field="videoId")
    spec = jobs.resolve_final(source_of(source_row), asked, principal.plan)
    if services.composites.client is None:
        raise CompositorUnavailable("no compositor is configured for this environment")
    if spec.narrate and spec.engine == "premium":
        ready = await to_thread.run_sync(available, "premium", services.compositor)
        if not ready:
            raise NarrationUnavailable(
                "premium narration is not available right now", field="voice"
            )
    row_id = new_id("vg")
    assert source_row.video_key is not None
    job = jobs.final_job(
        spec,
        job_id=job_id_of(row_id),
        video_url=services.composites.source_url(source_row.video_key),
        tolerance_sec=settings.compositor_tolerance_sec,
        resolution=settings.render_resolution,
        wait_sec=settings.compositor_wait_sec,
        callback_url=settings.resolved_callback_url,
    )
    row = composite_row(
        services,
        principal,
        row_id=row_id,
        prompt=source_row.prompt,
        duration_sec=source_row.duration_sec,
        aspect=source_row.aspect_ratio,
        job=job,
        details={"type": "composite", "sourceIds": [source_row.id]},
        script=source_row.script if spec.narrate else None,
        audio_config=spec.audio,
        captions=list(spec.cues),
        caption_meta={"captionStyle": spec.caption_style, "burnIn": spec.burn_in},
    )
    return await answer_dispatch(request, principal, row)


# -- POST /api/businesses/me/video/composite-clips ---------------------------------------------


async def composite_clips(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    settings = services.settings
    caller = await dashboard_caller(request, write=True)
    principal = caller.principal
    require_creator(principal)
    asked = jobs.parse_clips_request(await read_json_object(request))
    ids = list(asked.clip_ids)
    rows = await to_thread.run_sync(
        load_sources,
        services,
        principal.business_id,
        ids,
        [f"clipIds[{index}]" for index in range(len(ids))],
    )
    spec = jobs.resolve_clips(asked, [source_of(row) for row in rows], principal.plan)
    if services.composites.client is None:
        raise CompositorUnavailable("no compositor is configured for this environment")
    row_id = new_id("vg")
    job = jobs.clips_job(
        spec,
        job_id=job_id_of(row_id),
        segment_urls=[services.composites.source_url(key) for key in spec.segments],
        tolerance_sec=settings.compositor_tolerance_sec,
        resolution=settings.render_resolution,
        wait_sec=settings.compositor_wait_sec,
        callback_url=settings.resolved_callback_url,
    )
    prompts = " | ".join(row.prompt for row in rows)
    row = composite_row(
        services,
        principal,
        row_id=row_id,
        prompt=f"Stitched clips: {prompts}",
        duration_sec=asked.duration_sec,
        aspect=asked.aspect,
        job=job,
        details={"type": "clips", "sourceIds": ids, "style": asked.style},
        style=asked.style,
    )
    return await answer_dispatch(request, principal, row)


# -- GET /api/businesses/me/video/composite?jobToken= -------------------------------------------


async def poll(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    caller = await dashboard_caller(request, write=False)
    business_id = caller.principal.business_id
    composite_id = services.tokens.composite_of(request.query_params.get("jobToken"), business_id)
    pk = await to_thread.run_sync(services.composites.find, composite_id, business_id)
    state: CompositeState = await to_thread.run_sync(services.composites.refresh, pk)
    body: dict[str, Any] = {"status": state.status, "creditsUsed": state.credits_used}
    view = composite_view(services, state)
    if view is not None:
        body["composite"] = view
    if state.error is not None:
        body["error"] = state.error
    if state.stage is not None:
        body["stage"] = state.stage
    if state.progress is not None:
        body["progress"] = state.progress
    return JSONResponse(body)


routes = [
    Route(STATUS_ENDPOINT, composite, methods=["POST"]),
    Route(STATUS_ENDPOINT, poll, methods=["GET"]),
    Route("/api/businesses/me/video/composite-clips", composite_clips, methods=["POST"]),
]
