"""Audio filter chains: native clip audio per clip, stitched, normalized to the slot.

Every clip's audio is cut or padded to exactly ``frames * samples_per_frame`` samples, the
same length as its video, so joins cannot drift. The finished stream is measured by
``ebur128`` in the same pass (its summary on stderr becomes ``verification.integratedLufs``).
"""

from __future__ import annotations

from typing import Any

import ffmpeg

from compositor.plan.segments import stitch
from compositor.timeline import SAMPLE_RATE, DurationPlan, Segment

Stream = Any

TRIM_FADE_SEC = 0.15  # content cut at the slot ends with this fade-out, not a click


def conform(stream: Stream) -> Stream:
    """48 kHz stereo float, first sample at 0 (async fills gaps a source leaves)."""
    return stream.filter("aresample", SAMPLE_RATE, **{"async": 1, "first_pts": 0}).filter(
        "aformat", sample_fmts="fltp", sample_rates=SAMPLE_RATE, channel_layouts="stereo"
    )


def exact_length(stream: Stream, samples: int) -> Stream:
    return (
        stream.filter("apad", whole_len=samples)
        .filter("atrim", end_sample=samples)
        .filter("asetpts", "PTS-STARTPTS")
    )


def clip_audio(stream: Stream, samples: int) -> Stream:
    return exact_length(conform(stream), samples)


def silence(seconds: float) -> Stream:
    """A lavfi input of stereo silence for clips without audio (take its .audio)."""
    return ffmpeg.input(f"anullsrc=r={SAMPLE_RATE}:cl=stereo", f="lavfi", t=f"{seconds:.6f}")


def stitch_audio(
    streams: list[Stream], clip_frames: list[int], segments: list[Segment], samples_per_frame: int
) -> Stream:
    """The video's segments, in samples: bodies concatenated, fades as crossfade segments."""

    def join(tail: Stream, head: Stream, segment: Segment) -> Stream:
        return crossfade(tail, head, segment.frames * samples_per_frame)

    return stitch(streams, clip_frames, segments, join, samples_per_frame)


def crossfade(tail: Stream, head: Stream, samples: int) -> Stream:
    """Linear crossfade of two pieces of exactly ``samples`` samples each.

    Not ``acrossfade``: it reads its second input ahead, and since a clip's audio and video
    share a demuxer, that decodes the next clip's video early and parks the frames in memory
    (about 90 MB per join at 1080x1920, measured). afade + amix read both in step.
    """
    seconds = f"{samples / SAMPLE_RATE:.6f}"
    fading_out = tail.filter("afade", t="out", st=0, d=seconds)
    fading_in = head.filter("afade", t="in", st=0, d=seconds)
    return ffmpeg.filter([fading_out, fading_in], "amix", inputs=2, normalize=0, duration="first")


def normalize_audio(
    stream: Stream, duration: DurationPlan, samples_per_frame: int, fps: int
) -> Stream:
    """Speed change (fit), then pad with silence or cut with a short fade, to the slot."""
    slot_samples = duration.slot_frames * samples_per_frame
    if duration.speed != 1:
        stream = stream.filter("atempo", f"{float(duration.speed):.6f}")
    stream = exact_length(stream, slot_samples)
    if duration.trim_frames:
        slot_sec = duration.slot_frames / fps
        fade = min(TRIM_FADE_SEC, slot_sec / 2)
        stream = stream.filter("afade", t="out", st=f"{slot_sec - fade:.6f}", d=f"{fade:.6f}")
    return stream


def measure(stream: Stream) -> Stream:
    """Pass-through loudness meter; its summary (I: ... LUFS) is read from stderr."""
    return stream.filter("ebur128", peak="true", framelog="quiet")
