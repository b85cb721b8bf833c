"""Duration arithmetic in frames: pure, table-tested."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from compositor.timeline import (
    frames_of,
    normalize_duration,
    pieces_by_clip,
    samples_per_frame,
    stitch_segments,
    stitch_spans,
    stitched_frames,
)


@pytest.mark.parametrize(
    ("seconds", "fps", "frames"),
    [
        (15, 30, 450),
        (0.1 + 0.2, 30, 9),
        (1 / 3, 30, 10),
        (2.5, 24, 60),
        (0.016, 60, 1),
        (30, 25, 750),
    ],
)
def test_seconds_round_to_the_nearest_frame(seconds, fps, frames):
    assert frames_of(seconds, fps) == frames


@pytest.mark.parametrize(
    ("fps", "samples"), [(24, 2000), (25, 1920), (30, 1600), (50, 960), (60, 800)]
)
def test_every_supported_rate_has_whole_samples_per_frame(fps, samples):
    assert samples_per_frame(fps) == samples


def test_a_rate_without_whole_samples_per_frame_is_refused():
    with pytest.raises(ValueError):
        samples_per_frame(29)


@pytest.mark.parametrize(
    ("clips", "fade", "total"),
    [([180, 180, 150], 15, 480), ([180, 180, 150], 0, 510), ([60], 15, 60), ([30, 30], 15, 45)],
)
def test_fade_shortens_total_by_one_fade_per_join(clips, fade, total):
    assert stitched_frames(clips, fade) == total
    assert stitch_spans(clips, fade)[-1].end_frame == total


@pytest.mark.parametrize(
    ("clips", "fade"),
    [([180, 180, 150], 15), ([30, 30, 30], 15), ([45, 30, 90, 31], 15), ([100], 15), ([60, 60], 0)],
)
def test_segments_cover_the_stitched_timeline_exactly(clips, fade):
    segments = stitch_segments(clips, fade)
    assert sum(segment.frames for segment in segments) == stitched_frames(clips, fade)
    fades = [s for s in segments if s.kind == "fade"]
    assert len(fades) == (len(clips) - 1 if fade else 0)
    for segment in fades:
        tail, head = segment.pieces
        assert tail.frames == head.frames == fade
        assert tail.end == clips[tail.clip] and head.start == 0 and head.clip == tail.clip + 1
    # Every clip is cut into contiguous, non-overlapping pieces that use all of its frames.
    for clip, pieces in pieces_by_clip(segments).items():
        assert pieces[0].start == 0 and pieces[-1].end == clips[clip]
        assert all(a.end == b.start for a, b in itertools.pairwise(pieces))


def test_a_clip_exactly_twice_the_fade_has_no_body_in_the_middle():
    segments = stitch_segments([30, 30, 30], 15)
    assert [s.kind for s in segments] == ["body", "fade", "fade", "body"]


@pytest.mark.parametrize(
    ("content", "slot", "mode", "speed", "trim", "pad"),
    [
        (300, 450, "trim-pad", Fraction(1), 0, 150),
        (600, 450, "trim-pad", Fraction(1), 150, 0),
        (450, 450, "fit", Fraction(1), 0, 0),
        (480, 450, "fit", Fraction(480, 450), 0, 0),  # +6.7 %: within the 15 % fit allows
        (900, 450, "fit", Fraction(115, 100), 333, 0),  # capped at +15 % (783), rest trimmed
        (300, 450, "fit", Fraction(85, 100), 0, 97),  # capped at -15 %, the rest padded
    ],
)
def test_normalize_duration(content, slot, mode, speed, trim, pad):
    plan = normalize_duration(content, slot, mode)
    assert plan.speed == speed
    assert (plan.trim_frames, plan.pad_frames) == (trim, pad)
    assert plan.sped_frames - plan.trim_frames + plan.pad_frames == slot
