"""A source bundle's audio configuration (CONTRACT §5): defaults, bounds, merging. Pure.

Stored on ``video_generations.audio_config``; v1 rows store the defaults. Values are linear
volumes (0-2), a pace (0.5-2.0), a pitch in semitones (-12-12) and start times in seconds on
the output timeline (0 to the video's duration). ``voice`` picks the narration engine
(``standard`` is the local engine, ``premium`` the premium provider); ``musicTrack`` a builtin
track or ``none``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from api.errors import InvalidRequest

VOICES = ("standard", "premium")
MUSIC_TRACKS = ("upbeat", "calm", "corporate", "none")

DEFAULT_AUDIO_CONFIG: dict[str, Any] = {
    "speechPace": 1.0,
    "pitch": 0,
    "voiceVolume": 1.0,
    "musicVolume": 0.3,
    "nativeVolume": 0.5,
    "voiceStartSec": 0.5,
    "musicStartSec": 0,
    "voice": "standard",
    "musicTrack": "upbeat",
}

# name -> (low, high); None as high means "the video's duration"
NUMBER_BOUNDS: dict[str, tuple[float, float | None]] = {
    "speechPace": (0.5, 2.0),
    "pitch": (-12.0, 12.0),
    "voiceVolume": (0.0, 2.0),
    "musicVolume": (0.0, 2.0),
    "nativeVolume": (0.0, 2.0),
    "voiceStartSec": (0.0, None),
    "musicStartSec": (0.0, None),
}
CHOICES: dict[str, tuple[str, ...]] = {"voice": VOICES, "musicTrack": MUSIC_TRACKS}


def effective_audio(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored configuration over the defaults (rows made before a field existed, or with
    ``null`` in it, get the default)."""
    merged = dict(DEFAULT_AUDIO_CONFIG)
    for name, value in (stored or {}).items():
        if name in merged and value is not None:
            merged[name] = value
    return merged


def clean_number(value: Any, name: str, duration_sec: float, field: str) -> float | int:
    low, high = NUMBER_BOUNDS[name]
    top = float(duration_sec) if high is None else high
    if type(value) not in (int, float) or not math.isfinite(value):
        raise InvalidRequest(f"{field} must be a number", field=field)
    if not low <= value <= top:
        raise InvalidRequest(f"{field} must be between {low:g} and {top:g}", field=field)
    return value


def clean_choice(value: Any, name: str, field: str) -> str:
    choices = CHOICES[name]
    if value not in choices:
        raise InvalidRequest(f"{field} must be one of {', '.join(choices)}", field=field)
    return str(value)


def merge_audio_config(
    base: Mapping[str, Any] | None,
    changes: Any,
    *,
    duration_sec: float,
    field: str = "audioConfig",
) -> dict[str, Any]:
    """``base`` (already valid) updated with the client's ``changes`` (an object of some of
    the fields). Unknown names are refused: a misspelt ``speechpace`` silently ignored would
    render something the client did not ask for."""
    merged = effective_audio(base)
    if changes is None:
        return merged
    if not isinstance(changes, dict):
        raise InvalidRequest(f"{field} must be an object", field=field)
    for name, value in changes.items():
        path = f"{field}.{name}"
        if name in NUMBER_BOUNDS:
            merged[name] = clean_number(value, name, duration_sec, path)
        elif name in CHOICES:
            merged[name] = clean_choice(value, name, path)
        else:
            raise InvalidRequest(f"{path} is not an audio setting", field=path)
    return merged
