"""Verify a written render by probing it: duration within tolerance, audio as long as video,
the output format the contract promises. A file that fails is never published."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from compositor.errors import DurationOutOfTolerance, RenderFailed
from compositor.probe import probe


@dataclass(frozen=True)
class Verification:
    target_sec: float
    duration_sec: float
    duration_error_sec: float
    audio_video_gap_sec: float
    integrated_lufs: float | None
    true_peak_dbfs: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "targetSec": self.target_sec,
            "durationErrorSec": round(self.duration_error_sec, 4),
            "audioVideoGapSec": round(self.audio_video_gap_sec, 4),
            "integratedLufs": self.integrated_lufs,
            "truePeakDbfs": self.true_peak_dbfs,
        }


_SUMMARY = re.compile(r"Summary:(.*)", re.S)
_INTEGRATED = re.compile(r"I:\s+(-?[\d.]+|-inf)\s+LUFS")
_PEAK = re.compile(r"Peak:\s+(-?[\d.]+|-inf)\s+dBFS")


def parse_loudness(stderr: str) -> tuple[float | None, float | None]:
    """Integrated loudness and true peak from ebur128's summary (None if absent or silent)."""
    summary = _SUMMARY.search(stderr)
    if not summary:
        return None, None
    text = summary.group(1)
    return _number(_INTEGRATED.search(text)), _number(_PEAK.search(text))


def _number(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def stream_seconds(path: Path) -> tuple[float, float]:
    """(video, audio) stream durations as the MP4 declares them (edit lists applied)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return _declared(video.duration, video.time_base), (
            _declared(audio.duration, audio.time_base) if audio else 0.0
        )


def _declared(duration: int | None, time_base: Fraction | None) -> float:
    return float(duration * time_base) if duration and time_base else 0.0


def verify_output(
    path: Path,
    *,
    target_sec: float,
    tolerance_sec: float,
    width: int,
    height: int,
    fps: int,
    stderr_tail: str,
) -> Verification:
    media = probe(path)
    video = media.video
    if video is None or media.audio is None:
        raise RenderFailed("the render lacks a video or an audio stream", code="render_invalid")
    problems = []
    if (video.codec, video.profile, video.pix_fmt) != ("h264", "High", "yuv420p"):
        problems.append(f"video is {video.codec}/{video.profile}/{video.pix_fmt}")
    if (video.width, video.height) != (width, height):
        problems.append(f"size is {video.width}x{video.height}")
    if abs(video.fps - fps) > 0.01:
        problems.append(f"frame rate is {video.fps:g}")
    audio = media.audio
    if (audio.codec, audio.sample_rate, audio.channels) != ("aac", 48000, 2):
        problems.append(f"audio is {audio.codec}/{audio.sample_rate}/{audio.channels}ch")
    if problems:
        raise RenderFailed("render is not the promised format: " + "; ".join(problems),
                           code="render_invalid")  # fmt: skip
    video_sec, audio_sec = stream_seconds(path)
    error = abs(video_sec - target_sec)
    gap = abs(audio_sec - video_sec)
    lufs, peak = parse_loudness(stderr_tail)
    if error > tolerance_sec:
        raise DurationOutOfTolerance(
            f"rendered {video_sec:.3f}s for a {target_sec:g}s slot (tolerance {tolerance_sec:g}s)",
            field="output.durationSec",
        )
    if gap >= 1 / fps:
        raise DurationOutOfTolerance(
            f"audio ({audio_sec:.3f}s) and video ({video_sec:.3f}s) differ by a frame or more",
            field="output.durationSec",
        )
    return Verification(
        target_sec=target_sec,
        duration_sec=video_sec,
        duration_error_sec=error,
        audio_video_gap_sec=gap,
        integrated_lufs=lufs,
        true_peak_dbfs=peak,
    )
