"""Fitting the narration into the slot: pure arithmetic, table tests."""

from __future__ import annotations

import pytest

from compositor.errors import NarrationTooLong
from compositor.narration.fit import fit_pace, max_speech_ms

# speech, pace, voice start, slot, mode -> pace
FITS = [
    (10_000, 1.0, 500, 15_000, "trim-pad", 1.0),  # fits as asked
    (14_500, 1.0, 500, 15_000, "trim-pad", 1.0),  # ends exactly at the slot's end
    (20_000, 1.5, 500, 15_000, "trim-pad", 1.5),  # 13.3 s at 1.5x
    (16_000, 1.0, 500, 15_000, "fit", 1.1035),  # raised just enough (16 / 14.5, rounded up)
    (18_125, 1.0, 500, 15_000, "fit", 1.25),  # the most fit allows
    (29_000, 1.8, 500, 15_000, "fit", 2.0),  # 1.8 * 1.25 would pass 2.0: capped there
    (10_000, 1.0, 500, 15_000, "fit", 1.0),  # fit never slows a narration down
]


@pytest.mark.parametrize(("speech", "pace", "start", "slot", "mode", "expected"), FITS)
def test_fit_pace(speech, pace, start, slot, mode, expected):
    result = fit_pace(speech, pace=pace, voice_start_ms=start, slot_ms=slot, mode=mode)
    assert result == pytest.approx(expected, abs=1e-9)
    assert start + speech / result <= slot  # the voice really ends inside the slot


# speech, pace, voice start, slot, mode -> overflow seconds
OVERFLOWS = [
    (16_000, 1.0, 500, 15_000, "trim-pad", 1.5),
    (20_000, 1.0, 500, 15_000, "fit", 1.5),  # 20 / 1.25 = 16 s after 0.5 s: 1.5 s over
    (30_000, 2.0, 500, 15_000, "fit", 0.5),  # capped at 2.0
    (1_000, 1.0, 15_000, 15_000, "fit", 0.8),  # starts at the very end: 1 s at 1.25x
    (1_001, 1.0, 0, 1_000, "trim-pad", 0.001),
]


@pytest.mark.parametrize(("speech", "pace", "start", "slot", "mode", "overflow"), OVERFLOWS)
def test_too_long_reports_the_overflow_in_seconds(speech, pace, start, slot, mode, overflow):
    with pytest.raises(NarrationTooLong) as caught:
        fit_pace(speech, pace=pace, voice_start_ms=start, slot_ms=slot, mode=mode)
    assert caught.value.overflow_sec == pytest.approx(overflow, abs=0.001)
    assert caught.value.code == "narration_too_long"
    assert caught.value.field == "audio.narration.script"
    assert caught.value.to_dict()["overflowSec"] == caught.value.overflow_sec


def test_the_synthesis_limit_is_just_past_the_longest_narration_that_fits():
    assert max_speech_ms(1.0, 500, 15_000, "trim-pad") == 14_501
    assert max_speech_ms(1.0, 500, 15_000, "fit") == 18_126
    assert max_speech_ms(1.0, 20_000, 15_000, "fit") == 1
