"""Composite jobs built from source bundles (CONTRACT §5 and §7). Pure: data in, jobs out.

Two steps per route, so every refusal comes before anything is held or sent: ``resolve_*``
validates the request against the source and the plan (400 with the field, then 403
``overlay_not_allowed``) into a frozen spec; ``*_job`` turns a spec, the composite's job id
and the signed source URLs into the worker's job.

Rules the API chooses (docs/decisions.md, "Dashboard and the whole flow"):
- duration is normalized with ``durationMode: fit`` (speed within ±15 %, then trim or pad),
  the mode the captions route times its cues with, so cues and narration agree;
- overlays the plan does not allow are left out when the client did not ask for them and
  refused (403) when it did; ``voice: premium`` also needs the plan's premium narration;
- the watermark is the builtin image at the top right, clear of the captions at the bottom;
- without caption cues (given or saved) the composite has no captions: the engine could cue
  the narration itself, but captions are charged by the captions route, not given away here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from api.access import PlanInfo
from api.audio_config import MUSIC_TRACKS, VOICES, clean_choice, merge_audio_config
from api.errors import InvalidRequest, OverlayNotAllowed
from api.validation import clean_aspect, clean_duration, clean_text

CAPTION_STYLES = ("clean", "bold", "karaoke", "minimal")
OVERLAY_POSITIONS = ("center", "top", "bottom")
OVERLAY_STYLES = ("promo", "plain")
TRANSITIONS = ("cut", "fade")
# composite-clips ``style``: a preset for the music under the stitched clips
CLIP_STYLE_MUSIC: dict[str, str | None] = {
    "promo": "upbeat",
    "calm": "calm",
    "corporate": "corporate",
    "plain": None,
}
MAX_CLIP_IDS = 10
MAX_CUES = 1000
MAX_CUE_CHARS = 500
MAX_OVERLAYS = 20
MAX_OVERLAY_CHARS = 200
MAX_ID_CHARS = 64
FADE_MIN_SEC, FADE_MAX_SEC, FADE_DEFAULT_SEC = 0.1, 2.0, 0.5
DURATION_MODE = "fit"
LOUDNESS_LUFS = -14
WATERMARK: dict[str, Any] = {"image": "builtin:watermark", "position": "top-right", "opacity": 0.6}


@dataclass(frozen=True)
class Source:
    """A source bundle (a ``video_generations`` row) as the jobs need it."""

    id: str
    duration_sec: int
    aspect: str
    script: str | None
    audio: dict[str, Any]
    cues: tuple[dict[str, Any], ...]  # saved {startSec, endSec, text}
    words: tuple[Any, ...] | None  # saved word timings, one list per saved cue
    caption_style: str
    burn_in: bool
    video_key: str | None
    shots: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class FinalRequest:
    """The body of ``POST /api/businesses/me/video/composite``, type-checked."""

    video_id: str
    cues: Any  # None: the saved cues
    caption_style: str | None
    burn_in: bool | None
    audio_changes: dict[str, Any] | None
    text_overlays: Any
    voice: str | None
    music_track: str | None


@dataclass(frozen=True)
class FinalSpec:
    source: Source
    audio: dict[str, Any]
    narrate: bool
    engine: str  # local | premium
    music: str | None
    cues: tuple[dict[str, Any], ...]
    words: tuple[Any, ...] | None
    caption_style: str
    burn_in: bool
    overlays: tuple[dict[str, Any], ...]
    watermark: bool


@dataclass(frozen=True)
class ClipsRequest:
    clip_ids: tuple[str, ...]
    transition: str
    fade_sec: float
    style: str
    duration_sec: int
    aspect: str


@dataclass(frozen=True)
class ClipsSpec:
    request: ClipsRequest
    sources: tuple[Source, ...]
    segments: tuple[str, ...]  # storage keys, in order
    music: str | None
    watermark: bool


# -- small validators -------------------------------------------------------------------------


def _number(value: Any, field: str, low: float, high: float, *, low_open: bool = False) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise InvalidRequest(f"{field} must be a number", field=field)
    if value < low or (low_open and value == low) or value > high:
        raise InvalidRequest(f"{field} must be between {low:g} and {high:g}", field=field)
    return float(value)


def _text(value: Any, field: str, max_chars: int) -> str:
    # Cues and overlays are one line or a few: a carriage return has no place in them.
    return clean_text(value, field, max_chars=max_chars, allowed_controls="\n\t")


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidRequest(f"{field} must be one of {', '.join(choices)}", field=field)
    return str(value)


def _object(value: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field} must be an object", field=field)
    for name in value:
        if name not in allowed:
            raise InvalidRequest(f"{field}.{name} is not a known field", field=f"{field}.{name}")
    return value


def clean_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_CHARS:
        raise InvalidRequest(f"{field} must be a video id", field=field)
    return value


def clean_caption_style(value: Any, field: str = "captionStyle") -> str:
    return _choice(value, field, CAPTION_STYLES)


def clean_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(f"{field} must be true or false", field=field)
    return value


def clean_cues(value: Any, duration_sec: float, field: str = "captionCues") -> tuple[dict, ...]:
    """Cues as the client sends them: ``[{startSec, endSec, text}]``, in order, not
    overlapping, inside the video."""
    if not isinstance(value, list):
        raise InvalidRequest(f"{field} must be a list of cues", field=field)
    if len(value) > MAX_CUES:
        raise InvalidRequest(f"{field} holds at most {MAX_CUES} cues", field=field)
    cues: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        path = f"{field}[{index}]"
        cue = _object(item, path, ("startSec", "endSec", "text"))
        for name in ("startSec", "endSec", "text"):
            if name not in cue:
                raise InvalidRequest(f"{path}.{name} is required", field=f"{path}.{name}")
        start = _number(cue["startSec"], f"{path}.startSec", 0, duration_sec)
        if start >= duration_sec:
            raise InvalidRequest(
                f"{path}.startSec is past the video's end", field=f"{path}.startSec"
            )
        end = _number(cue["endSec"], f"{path}.endSec", start, duration_sec, low_open=True)
        if cues and start < cues[-1]["endSec"]:
            raise InvalidRequest(
                f"{path} starts before the previous cue ends", field=f"{path}.startSec"
            )
        text = _text(cue["text"], f"{path}.text", MAX_CUE_CHARS)
        cues.append({"startSec": start, "endSec": end, "text": text})
    return tuple(cues)


def clean_overlays(
    value: Any, duration_sec: float, field: str = "textOverlays"
) -> tuple[dict, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest(f"{field} must be a list", field=field)
    if len(value) > MAX_OVERLAYS:
        raise InvalidRequest(f"{field} holds at most {MAX_OVERLAYS} overlays", field=field)
    overlays = []
    for index, item in enumerate(value):
        path = f"{field}[{index}]"
        overlay = _object(item, path, ("text", "startSec", "endSec", "position", "style"))
        for name in ("text", "startSec", "endSec"):
            if name not in overlay:
                raise InvalidRequest(f"{path}.{name} is required", field=f"{path}.{name}")
        text = _text(overlay["text"], f"{path}.text", MAX_OVERLAY_CHARS)
        start = _number(overlay["startSec"], f"{path}.startSec", 0, duration_sec)
        if start >= duration_sec:
            raise InvalidRequest(
                f"{path}.startSec is past the video's end", field=f"{path}.startSec"
            )
        end = _number(overlay["endSec"], f"{path}.endSec", start, duration_sec, low_open=True)
        overlays.append(
            {
                "text": text,
                "startSec": start,
                "endSec": end,
                "position": _choice(
                    overlay.get("position", "center"), f"{path}.position", OVERLAY_POSITIONS
                ),
                "style": _choice(overlay.get("style", "promo"), f"{path}.style", OVERLAY_STYLES),
            }
        )
    return tuple(overlays)


# -- the final commercial ----------------------------------------------------------------------


def parse_final_request(body: dict[str, Any]) -> FinalRequest:
    """Types only; values that depend on the source (times) are checked by ``resolve_final``."""

    def optional(name: str, clean: Any) -> Any:
        return clean(body[name], name) if body.get(name) is not None else None

    audio = body.get("audioConfig")
    if audio is not None and not isinstance(audio, dict):
        raise InvalidRequest("audioConfig must be an object", field="audioConfig")
    return FinalRequest(
        video_id=clean_id(body.get("videoId"), "videoId"),
        cues=body.get("captionCues"),
        caption_style=optional("captionStyle", clean_caption_style),
        burn_in=optional("burnIn", clean_bool),
        audio_changes=audio,
        text_overlays=body.get("textOverlays"),
        voice=optional("voice", lambda v, f: clean_choice(v, "voice", f)),
        music_track=optional("musicTrack", lambda v, f: clean_choice(v, "musicTrack", f)),
    )


def resolve_final(source: Source, request: FinalRequest, plan: PlanInfo) -> FinalSpec:
    duration = float(source.duration_sec)
    audio = merge_audio_config(source.audio, request.audio_changes, duration_sec=duration)
    if request.voice is not None:
        audio["voice"] = request.voice
    if request.music_track is not None:
        audio["musicTrack"] = request.music_track
    cues = source.cues if request.cues is None else clean_cues(request.cues, duration)
    overlays = clean_overlays(request.text_overlays, duration)
    # 400s are all above; from here on the plan decides (403).
    changes = request.audio_changes or {}
    voice_asked = request.voice is not None or "voice" in changes
    music_asked = (request.music_track or changes.get("musicTrack") or "none") != "none"
    if voice_asked and "voice" not in plan.overlays:
        raise OverlayNotAllowed("the plan does not include narration", field="voice")
    if audio["voice"] == "premium" and not plan.premium_narration:
        raise OverlayNotAllowed("the plan does not include premium narration", field="voice")
    if music_asked and "music" not in plan.overlays:
        raise OverlayNotAllowed("the plan does not include music", field="musicTrack")
    if overlays and "text" not in plan.overlays:
        raise OverlayNotAllowed("the plan does not include text overlays", field="textOverlays")
    narrate = "voice" in plan.overlays and bool(source.script)
    music = audio["musicTrack"] if "music" in plan.overlays else "none"
    same_cues = request.cues is None or cues == source.cues
    return FinalSpec(
        source=source,
        audio=audio,
        narrate=narrate,
        engine="premium" if audio["voice"] == "premium" else "local",
        music=None if music == "none" else music,
        cues=cues,
        words=source.words if same_cues else None,
        caption_style=request.caption_style or source.caption_style,
        burn_in=source.burn_in if request.burn_in is None else request.burn_in,
        overlays=overlays,
        watermark=plan.watermark,
    )


def output_block(
    aspect: str, duration_sec: int, *, tolerance_sec: float, resolution: str
) -> dict[str, Any]:
    return {
        "aspect": aspect,
        "durationSec": duration_sec,
        "toleranceSec": tolerance_sec,
        "durationMode": DURATION_MODE,
        "resolution": resolution,
    }


def worker_fields(job_id: str, wait_sec: float, callback_url: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"jobId": job_id, "waitSec": wait_sec}
    if callback_url:
        fields["callbackUrl"] = callback_url
    return fields


def final_job(
    spec: FinalSpec,
    *,
    job_id: str,
    video_url: str,
    tolerance_sec: float,
    resolution: str,
    wait_sec: float = 0,
    callback_url: str | None = None,
) -> dict[str, Any]:
    """The worker's job for the final commercial: the source video as the one clip (already the
    slot's length), narration of the script, music, native audio, captions, overlays, the
    plan's watermark; duration normalized to the slot."""
    source, audio = spec.source, spec.audio
    job: dict[str, Any] = {
        **worker_fields(job_id, wait_sec, callback_url),
        "output": output_block(
            source.aspect, source.duration_sec, tolerance_sec=tolerance_sec, resolution=resolution
        ),
        "clips": [{"source": video_url}],
        "transition": {"type": "cut"},
        "textOverlays": list(spec.overlays),
        "watermark": dict(WATERMARK) if spec.watermark else None,
        "audio": {
            "nativeVolume": audio["nativeVolume"],
            "voiceVolume": audio["voiceVolume"],
            "musicVolume": audio["musicVolume"],
            "speechPace": audio["speechPace"],
            "pitch": audio["pitch"],
            "voiceStartSec": audio["voiceStartSec"],
            "musicStartSec": audio["musicStartSec"],
            "narration": {"script": source.script} if spec.narrate else None,
            "narrationEngine": spec.engine,
            "music": {"source": f"builtin:{spec.music}"} if spec.music else None,
            "ducking": True,
            "loudnessLufs": LOUDNESS_LUFS,
        },
    }
    if spec.cues:
        cues = [dict(cue) for cue in spec.cues]
        if spec.words is not None and len(spec.words) == len(cues):
            for cue, words in zip(cues, spec.words, strict=True):
                if words:
                    cue["words"] = words
        job["captions"] = {"cues": cues, "style": spec.caption_style, "burnIn": spec.burn_in}
    return job


# -- stitched clips ----------------------------------------------------------------------------


def parse_clips_request(body: dict[str, Any]) -> ClipsRequest:
    ids = body.get("clipIds")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_CLIP_IDS:
        raise InvalidRequest(
            f"clipIds must be a list of 1-{MAX_CLIP_IDS} video ids", field="clipIds"
        )
    seen: set[str] = set()
    for index, value in enumerate(ids):
        clean_id(value, f"clipIds[{index}]")
        if value in seen:
            raise InvalidRequest(f"clipIds[{index}] repeats {value}", field=f"clipIds[{index}]")
        seen.add(value)
    transition = _object(body.get("transition", {}), "transition", ("type", "durationSec"))
    kind = _choice(transition.get("type", "cut"), "transition.type", TRANSITIONS)
    fade = _number(
        transition.get("durationSec", FADE_DEFAULT_SEC),
        "transition.durationSec",
        FADE_MIN_SEC,
        FADE_MAX_SEC,
    )
    return ClipsRequest(
        clip_ids=tuple(ids),
        transition=kind,
        fade_sec=fade,
        style=_choice(body.get("style", "promo"), "style", tuple(CLIP_STYLE_MUSIC)),
        duration_sec=clean_duration(body.get("duration"), "duration" in body),
        aspect=clean_aspect(body.get("aspect"), "aspect" in body, field="aspect"),
    )


def segment_keys(source: Source, transition: str) -> list[str]:
    """The stored pieces of a clip, in order. With cuts, its shot files when every shot has
    one (cutting shots together is what the clip already is); with fades, the clip's own video,
    so fades fall between clips and never inside one."""
    if transition == "cut" and source.shots and all(shot.get("key") for shot in source.shots):
        return [str(shot["key"]) for shot in source.shots]
    if not source.video_key:
        raise ValueError(f"{source.id} has no stored video")
    return [source.video_key]


def resolve_clips(request: ClipsRequest, sources: list[Source], plan: PlanInfo) -> ClipsSpec:
    if request.transition == "fade":
        for index, source in enumerate(sources):
            if source.duration_sec < 2 * request.fade_sec:
                raise InvalidRequest(
                    f"clip {index} ({source.duration_sec} s) is shorter than two fades",
                    field="transition.durationSec",
                )
    segments = [key for source in sources for key in segment_keys(source, request.transition)]
    music = CLIP_STYLE_MUSIC[request.style] if "music" in plan.overlays else None
    return ClipsSpec(request, tuple(sources), tuple(segments), music, plan.watermark)


def clips_job(
    spec: ClipsSpec,
    *,
    job_id: str,
    segment_urls: list[str],
    tolerance_sec: float,
    resolution: str,
    wait_sec: float = 0,
    callback_url: str | None = None,
) -> dict[str, Any]:
    """The clips one after the other (cut, or faded), their own sound, the style's music, the
    plan's watermark; duration normalized to the requested slot."""
    request = spec.request
    transition: dict[str, Any] = {"type": request.transition}
    if request.transition == "fade":
        transition["durationSec"] = request.fade_sec
    return {
        **worker_fields(job_id, wait_sec, callback_url),
        "output": output_block(
            request.aspect, request.duration_sec, tolerance_sec=tolerance_sec, resolution=resolution
        ),
        "clips": [{"source": url} for url in segment_urls],
        "transition": transition,
        "watermark": dict(WATERMARK) if spec.watermark else None,
        "audio": {
            "nativeVolume": 1.0,
            "music": {"source": f"builtin:{spec.music}"} if spec.music else None,
            "loudnessLufs": LOUDNESS_LUFS,
        },
    }


__all__ = ["MUSIC_TRACKS", "VOICES"]
