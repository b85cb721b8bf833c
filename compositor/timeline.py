"""Duration arithmetic of a render, in integer output frames.

Everything that is summed is counted in frames, never in float seconds, so a 15 s slot is
exactly 450 frames at 30 fps and 720 000 samples at 48 kHz: audio and video cannot drift apart
at joins, and a fade shortens the total by exactly one fade per join.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

SAMPLE_RATE = 48_000
MAX_SPEED_CHANGE = Fraction(15, 100)  # "fit" changes speed by at most ±15 % (CONTRACT §7)


def frames_of(seconds: float, fps: int) -> int:
    """Nearest whole frame; Fraction avoids 0.1 + 0.2 style drift on the way."""
    return round(Fraction(seconds).limit_denominator(1_000_000) * fps)


def samples_per_frame(fps: int) -> int:
    if SAMPLE_RATE % fps:
        raise ValueError(f"{fps} fps does not divide {SAMPLE_RATE} Hz into whole samples")
    return SAMPLE_RATE // fps


def seconds_of(frames: int, fps: int) -> float:
    return frames / fps


@dataclass(frozen=True)
class ClipSpan:
    """One clip on the stitched timeline."""

    index: int
    frames: int
    start_frame: int

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


def stitch_spans(clip_frames: list[int], fade_frames: int) -> list[ClipSpan]:
    """Where each clip starts when neighbours overlap by ``fade_frames`` (0 for cuts)."""
    spans: list[ClipSpan] = []
    start = 0
    for index, frames in enumerate(clip_frames):
        spans.append(ClipSpan(index=index, frames=frames, start_frame=start))
        start += frames - fade_frames
    return spans


def stitched_frames(clip_frames: list[int], fade_frames: int) -> int:
    """Sum of clip lengths minus one fade per join."""
    return sum(clip_frames) - fade_frames * max(len(clip_frames) - 1, 0)


@dataclass(frozen=True)
class Piece:
    """Frames [start, end) of one clip."""

    clip: int
    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Segment:
    """A stretch of the stitched timeline: one clip's body, or a fade of a tail into a head."""

    kind: Literal["body", "fade"]
    pieces: tuple[Piece, ...]  # body: (piece,); fade: (tail of clip a, head of clip b)

    @property
    def frames(self) -> int:
        return self.pieces[0].frames


def stitch_segments(clip_frames: list[int], fade_frames: int) -> list[Segment]:
    """The stitched timeline as consecutive segments, joined by plain concatenation.

    A fade becomes its own short segment (the last ``fade_frames`` of one clip blended with the
    first of the next) between the clips' bodies. Every segment pulls its clips only when its
    turn comes, so a later clip is not decoded early and parked in memory, which is what a
    chain of xfade/acrossfade over whole clips does.
    """
    segments: list[Segment] = []
    last = len(clip_frames) - 1
    for index, frames in enumerate(clip_frames):
        head = fade_frames if index > 0 else 0
        tail = fade_frames if index < last else 0
        if frames - head - tail > 0:
            segments.append(Segment("body", (Piece(index, head, frames - tail),)))
        if tail:
            segments.append(
                Segment(
                    "fade",
                    (Piece(index, frames - tail, frames), Piece(index + 1, 0, fade_frames)),
                )
            )
    return segments


def pieces_by_clip(segments: list[Segment]) -> dict[int, list[Piece]]:
    """Which pieces each clip is cut into, in timeline order."""
    by_clip: dict[int, list[Piece]] = {}
    for segment in segments:
        for piece in segment.pieces:
            by_clip.setdefault(piece.clip, []).append(piece)
    return by_clip


@dataclass(frozen=True)
class DurationPlan:
    """How stitched content becomes exactly the slot."""

    content_frames: int
    slot_frames: int
    speed: Fraction  # > 1 plays faster; 1 unless durationMode is "fit"
    sped_frames: int  # content length after the speed change

    @property
    def trim_frames(self) -> int:
        return max(self.sped_frames - self.slot_frames, 0)

    @property
    def pad_frames(self) -> int:
        return max(self.slot_frames - self.sped_frames, 0)


def normalize_duration(
    content_frames: int,
    slot_frames: int,
    mode: Literal["trim-pad", "fit"],
) -> DurationPlan:
    """trim-pad: cut or hold the last frame. fit: change speed up to ±15 %, then trim-pad."""
    if content_frames <= 0 or slot_frames <= 0:
        raise ValueError("content and slot must be positive")
    speed = Fraction(1)
    if mode == "fit" and content_frames != slot_frames:
        wanted = Fraction(content_frames, slot_frames)
        speed = min(max(wanted, 1 - MAX_SPEED_CHANGE), 1 + MAX_SPEED_CHANGE)
    sped = round(content_frames / speed)
    return DurationPlan(
        content_frames=content_frames, slot_frames=slot_frames, speed=speed, sped_frames=sped
    )
