"""Retry delays in integer milliseconds. Pure; callers add jitter from their own randomness."""

from __future__ import annotations

import math
import random


def backoff_ms(attempt: int, *, base_ms: int, max_ms: int) -> int:
    """Milliseconds before retry ``attempt`` (1 = the first retry): ``base_ms`` doubled per
    attempt, capped at ``max_ms``; 0 for attempt 0."""
    if attempt < 1:
        return 0
    return min(max_ms, base_ms << min(attempt - 1, 40))


def jittered(delay_ms: int, rng: random.Random) -> int:
    """Half fixed, half random ("equal jitter"), so the retries of many jobs spread out."""
    return delay_ms // 2 + rng.randint(0, delay_ms - delay_ms // 2)


def retry_after_sec(slots: int, mean_render_sec: float) -> int:
    """``Retry-After`` for a full queue: a place frees up when a render ends, which with
    ``slots`` renders running happens about every ``mean_render_sec / slots``. 1-600 s."""
    if slots < 1:  # a front with no render slots of its own: the farm's pace is unknown
        return 30
    return max(1, min(600, math.ceil(mean_render_sec / slots)))
