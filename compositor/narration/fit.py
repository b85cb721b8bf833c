"""Fit the narration into the slot: pure arithmetic in integer milliseconds.

The voice must end by the end of the slot: ``voiceStart + speech / pace <= slot``. With
``durationMode: fit`` the pace may be raised to at most 1.25 times the requested one (and
never past 2.0, the top of ``speechPace``); beyond that, or in ``trim-pad`` mode at once, the
job fails before rendering with ``narration_too_long`` and the seconds it overflows by.
"""

from __future__ import annotations

import math
from typing import Literal

from compositor.errors import NarrationTooLong

DurationMode = Literal["trim-pad", "fit"]
MAX_FIT_FACTOR = 1.25
MAX_PACE = 2.0
PACE_STEP = 10_000  # paces are rounded up to 1/10 000 so the rounded pace still fits


def fastest_pace(pace: float, mode: DurationMode) -> float:
    return min(pace * MAX_FIT_FACTOR, MAX_PACE) if mode == "fit" else pace


def max_speech_ms(pace: float, voice_start_ms: int, slot_ms: int, mode: DurationMode) -> int:
    """The longest raw narration that can still fit: synthesis may stop past it."""
    return math.floor(max(slot_ms - voice_start_ms, 0) * fastest_pace(pace, mode)) + 1


def fit_pace(
    speech_ms: int,
    *,
    pace: float,
    voice_start_ms: int,
    slot_ms: int,
    mode: DurationMode,
    estimated: bool = False,
    field: str = "audio.narration.script",
) -> float:
    """The pace to speak at so the voice ends inside the slot, or NarrationTooLong."""
    room_ms = slot_ms - voice_start_ms
    if room_ms > 0 and speech_ms <= room_ms * pace:
        return pace
    top = fastest_pace(pace, mode)
    if room_ms > 0 and speech_ms <= room_ms * top:
        raised = math.ceil(speech_ms * PACE_STEP / room_ms) / PACE_STEP
        return min(max(raised, pace), top)
    overflow_ms = voice_start_ms + math.ceil(speech_ms / top) - slot_ms
    overflow_sec = overflow_ms / 1000
    about = "about " if estimated else ""
    at = f"at pace {top:g}" + (" (the most durationMode fit allows)" if mode == "fit" else "")
    raise NarrationTooLong(
        f"{field}: the narration needs {about}{math.ceil(speech_ms / top) / 1000:g}s {at} "
        f"after voiceStartSec {voice_start_ms / 1000:g}s, but the slot leaves "
        f"{max(room_ms, 0) / 1000:g}s: {about}{overflow_sec:g}s too long",
        overflow_sec=overflow_sec,
        field=field,
    )
