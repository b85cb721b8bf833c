"""Video generation rows as the v1 API shows them, and the list query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.clock import Clock, iso_millis
from api.credits import rules
from api.credits.rules import MonthlyUsage
from api.db.models import CreditEntry, CreditMonth, VideoGeneration


@dataclass(frozen=True)
class VideoPage:
    videos: list[dict[str, Any]]
    total: int
    usage: MonthlyUsage


def create_body(row: VideoGeneration, credits: int, usage: MonthlyUsage) -> dict[str, Any]:
    """The v1 create response, exactly the seed's shape (``_receipt`` added by the route)."""
    return {
        "id": row.id,
        "status": row.status,
        "prompt": row.prompt,
        "duration": str(row.duration_sec),
        "aspectRatio": row.aspect_ratio,
        "creditsUsed": credits,
        "monthlyUsage": usage.to_dict(),
    }


def list_item(row: Any, credits: int, signer: Any, ttl_sec: int) -> dict[str, Any]:
    """One row of the v1 list (``row``: a VideoGeneration or a row with the same columns)."""
    completed = row.status == "completed"
    return {
        "id": row.id,
        "prompt": row.prompt,
        "status": row.status,
        "videoUrl": signer.url(row.video_key, expires_in=ttl_sec)
        if completed and row.video_key
        else None,
        "thumbnailUrl": signer.url(row.thumbnail_key, expires_in=ttl_sec)
        if completed and row.thumbnail_key
        else None,
        "durationSeconds": int(row.duration_sec),
        "creditsUsed": credits,
        "captions": list(row.captions or []),
        "createdAt": iso_millis(row.created_at),
        "completedAt": iso_millis(row.completed_at) if row.completed_at else None,
    }


# Charged credits of the row, as a correlated subquery: the page is one statement.
_CREDITS_USED = (
    select(func.coalesce(func.sum(CreditEntry.amount), 0))
    .where(CreditEntry.generation_pk == VideoGeneration.pk, CreditEntry.state == "charged")
    .correlate(VideoGeneration)
    .scalar_subquery()
    .label("credits_used")
)
_LIST_COLUMNS = (
    VideoGeneration.id,
    VideoGeneration.prompt,
    VideoGeneration.status,
    VideoGeneration.duration_sec,
    VideoGeneration.video_key,
    VideoGeneration.thumbnail_key,
    VideoGeneration.captions,
    VideoGeneration.created_at,
    VideoGeneration.completed_at,
    _CREDITS_USED,
)


def list_page(
    session: Session,
    clock: Clock,
    *,
    business_id: str,
    status: str,
    limit: int,
    credit_limit: int,
    signer: Any,
    ttl_sec: int,
) -> VideoPage:
    """Newest first; ``total`` counts every row matching ``status``. Two statements: the count
    with this month's totals beside it, then the page with each row's credits."""
    conditions = [VideoGeneration.business_id == business_id]
    if status != "all":
        conditions.append(VideoGeneration.status == status)
    month = rules.month_key(clock.now())
    totals = (
        select(CreditMonth.charged, CreditMonth.held)
        .where(CreditMonth.business_id == business_id, CreditMonth.month == month)
        .subquery()
    )
    total, charged, held = session.execute(
        select(
            select(func.count()).select_from(VideoGeneration).where(*conditions).scalar_subquery(),
            select(totals.c.charged).scalar_subquery(),
            select(totals.c.held).scalar_subquery(),
        )
    ).one()
    rows = session.execute(
        select(*_LIST_COLUMNS).where(*conditions).order_by(VideoGeneration.pk.desc()).limit(limit)
    ).all()
    usage = MonthlyUsage(int(charged or 0), int(held or 0), credit_limit)
    videos = [list_item(row, int(row.credits_used), signer, ttl_sec) for row in rows]
    return VideoPage(videos, int(total or 0), usage)
