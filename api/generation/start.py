"""Starting a generation: the provider checked and the bundle planned into a row, then its
credits charged and the row inserted in one transaction, then the background worker woken.
Shared by the v1 and the dashboard create routes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from starlette.responses import JSONResponse

from api.credits.ledger import ResponseBuilder
from api.db.models import VideoGeneration
from api.generation import GenerationRequest
from api.idempotency import IdempotencyRequest, find_replay
from api.ids import new_id

if TYPE_CHECKING:
    from api.access import Principal
    from api.services import Services
    from api.validation import CreateVideo


async def replay(
    services: Services, business_id: str, idempotency: IdempotencyRequest | None
) -> JSONResponse | None:
    """The first response again for a repeated ``Idempotency-Key``, looked up before the
    provider is asked anything: a repeat is answered even if the provider went down since."""
    if idempotency is None:
        return None

    def find() -> dict[str, object] | None:
        # A write transaction: an expired record is deleted on the way (SQLite refuses a write
        # after a read in a transaction another process wrote into since).
        with services.db.write() as session:
            return find_replay(session, business_id, idempotency, services.clock.now())

    body = await to_thread.run_sync(find)
    if body is None:
        return None
    return JSONResponse(body, headers={"Idempotent-Replayed": "true"})


async def planned_row(
    services: Services,
    principal: Principal,
    create: CreateVideo,
    *,
    audio_config: dict[str, Any],
    style: str | None = None,
    api_key_id: str | None = None,
) -> VideoGeneration:
    """The row a create inserts, not yet saved: the provider's health checked first (503
    before any credit moves), then its source bundle planned."""
    await to_thread.run_sync(services.provider.check)
    plan = services.provider.plan(
        GenerationRequest(create.prompt, create.duration_sec, create.aspect_ratio, style)
    )
    now = services.clock.now()
    return VideoGeneration(
        id=new_id("vg"),
        business_id=principal.business_id,
        user_id=principal.user_id,
        api_key_id=api_key_id,
        kind="generation",
        status="processing",
        prompt=create.prompt,
        duration_sec=create.duration_sec,
        aspect_ratio=create.aspect_ratio,
        style=style,
        script=plan.script,
        audio_config=audio_config,
        shots=[shot.to_dict() for shot in plan.shots],
        provider=services.provider.name,
        attempts=0,
        deadline_at=now + timedelta(seconds=services.settings.generation_deadline_sec),
    )


async def start_generation(
    services: Services,
    row: VideoGeneration,
    *,
    limit: int,
    credits: int,
    build_response: ResponseBuilder,
    idempotency: IdempotencyRequest | None,
) -> JSONResponse:
    """200 with the body ``build_response`` makes, or the first response again for a repeated
    ``Idempotency-Key`` (nothing charged twice); 429 comes from the ledger as an ApiError."""
    created = await to_thread.run_sync(
        lambda: services.ledger.create_row(
            row,
            limit=limit,
            credits=credits,
            state="charged",
            reason="generation",
            build_response=build_response,
            idempotency=idempotency,
        )
    )
    if created.replayed:
        return JSONResponse(created.body, headers={"Idempotent-Replayed": "true"})
    services.worker.notify()
    return JSONResponse(created.body)
