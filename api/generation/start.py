"""Starting a generation: charge its credits and insert its row in one transaction, then wake
the background worker. Shared by the v1 and the dashboard create routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from anyio import to_thread
from starlette.responses import JSONResponse

from api.credits.ledger import ResponseBuilder
from api.db.models import VideoGeneration
from api.idempotency import IdempotencyRequest

if TYPE_CHECKING:
    from api.services import Services


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
