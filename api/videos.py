"""Video generation rows as the v1 API shows them, and the list query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from api.clock import Clock, iso_millis
from api.credits.ledger import credits_used, monthly_usage
from api.credits.rules import MonthlyUsage
from api.db.engine import Database
from api.db.models import VideoGeneration

DEFAULT_AUDIO_CONFIG: dict[str, Any] = {
    "speechPace": 1.0,
    "pitch": 0,
    "voiceVolume": 1.0,
    "musicVolume": 0.3,
    "nativeVolume": 0.5,
    "voiceStartSec": 0.5,
    "musicStartSec": 0,
    "voice": None,
    "musicTrack": None,
}


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


def list_item(row: VideoGeneration, credits: int, signer: Any, ttl_sec: int) -> dict[str, Any]:
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


def list_videos(
    database: Database,
    clock: Clock,
    *,
    business_id: str,
    status: str,
    limit: int,
    credit_limit: int,
    signer: Any,
    ttl_sec: int,
) -> VideoPage:
    """Newest first; ``total`` counts every row matching ``status``; one read transaction."""
    conditions = [VideoGeneration.business_id == business_id]
    if status != "all":
        conditions.append(VideoGeneration.status == status)
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(VideoGeneration).where(*conditions))
        rows = session.scalars(
            select(VideoGeneration)
            .where(*conditions)
            .order_by(VideoGeneration.pk.desc())
            .limit(limit)
        ).all()
        credits = credits_used(session, [row.pk for row in rows])
        usage = monthly_usage(session, business_id, credit_limit, clock)
    videos = [list_item(row, credits.get(row.pk, 0), signer, ttl_sec) for row in rows]
    return VideoPage(videos, int(total or 0), usage)
