"""Source bundles as the dashboard sees them (CONTRACT §5): the ``video`` object. Pure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import PlanInfo
from api.audio_config import effective_audio
from api.clock import iso_millis
from api.compositing.jobs import FADE_DEFAULT_SEC, WATERMARK
from api.db.models import VideoGeneration
from api.errors import NotFound

SHOT_FIELDS = ("index", "title", "description", "startSec", "durationSec", "status")
CALL_TO_ACTION_SEC = 2.5


def shot_view(shot: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """A shot without our storage details (key, background); ``url`` once it is stored."""
    view = {name: shot.get(name) for name in SHOT_FIELDS}
    if url is not None:
        view["url"] = url
    return view


def last_sentence(script: str | None) -> str | None:
    if not script:
        return None
    sentences = [part.strip() for part in script.replace("!", ".").split(".") if part.strip()]
    return sentences[-1] if sentences else None


def compositing_guidance(row: VideoGeneration, plan: PlanInfo) -> dict[str, Any]:
    """How to finish this bundle: what the composite routes will do by default, and what the
    plan allows. The overlay is a suggestion (the script's call to action, at the top for the
    last seconds); it is only used if the client sends it back."""
    overlays = []
    closing = last_sentence(row.script)
    if closing and "text" in plan.overlays and row.duration_sec > CALL_TO_ACTION_SEC:
        overlays.append(
            {
                "text": closing[:200],
                "startSec": row.duration_sec - CALL_TO_ACTION_SEC,
                "endSec": row.duration_sec,
                "position": "top",
                "style": "promo",
            }
        )
    meta = row.caption_meta or {}
    return {
        "transition": {"type": "fade", "durationSec": FADE_DEFAULT_SEC},
        "captionStyle": meta.get("captionStyle", "clean"),
        "textOverlays": overlays,
        "watermark": dict(WATERMARK) if plan.watermark else None,
        "allowedOverlays": list(plan.overlays),
        "premiumNarration": plan.premium_narration,
    }


def video_view(
    row: VideoGeneration,
    plan: PlanInfo,
    *,
    signer: Any = None,
    ttl_sec: int = 900,
    credits_used: int | None = None,
) -> dict[str, Any]:
    """The ``video`` object. With a ``signer`` (status route) it adds signed links for a
    completed row, its credits and its error."""
    completed = row.status == "completed"

    def link(key: str | None) -> str | None:
        if signer is None or not completed or not key:
            return None
        return str(signer.url(key, expires_in=ttl_sec))

    view: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "prompt": row.prompt,
        "duration": str(row.duration_sec),
        "aspectRatio": row.aspect_ratio,
        "style": row.style,
        "script": row.script,
        "audioConfig": effective_audio(row.audio_config),
        "shots": [shot_view(shot, link(shot.get("key"))) for shot in row.shots or ()],
        "compositing": compositing_guidance(row, plan),
        "captions": list(row.captions or []),
        "createdAt": iso_millis(row.created_at),
        "completedAt": iso_millis(row.completed_at) if row.completed_at else None,
    }
    if row.kind == "composite":
        view["sourceIds"] = list((row.details or {}).get("sourceIds") or [])
    if signer is not None:
        view["videoUrl"] = link(row.video_key)
        view["thumbnailUrl"] = link(row.thumbnail_key)
        view["creditsUsed"] = credits_used or 0
        view["error"] = (
            {"code": row.error_code, "message": row.error_message}
            if row.status == "failed"
            else None
        )
    return view


def owned_row(session: Session, business_id: str, video_id: str) -> VideoGeneration:
    """A row of the business (404 for anything else, another business's ids included)."""
    row = session.scalars(
        select(VideoGeneration).where(
            VideoGeneration.id == video_id, VideoGeneration.business_id == business_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such video", field="videoId")
    return row
