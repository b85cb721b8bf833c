"""Probe media with PyAV (the FFmpeg wheel has no ffprobe) into frozen records.

A probe reads the headers, decodes the first video frame (PyAV exposes the display-matrix
rotation on frames) and walks the video packets so a truncated file is caught here, before
FFmpeg would quietly render a frozen tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

from compositor.errors import SourceUnavailable
from compositor.formats import FORMAT_WHITELIST

IMAGE_CODECS = {"png", "mjpeg", "jpeg2000", "webp", "bmp", "tiff", "gif"}
# The same limits FFmpeg gets at render time: detection must not let a playlist demuxer (HLS,
# concat) open the files it names, so only media demuxers, and only the file itself.
OPEN_OPTIONS = {"format_whitelist": FORMAT_WHITELIST, "protocol_whitelist": "file"}


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    profile: str | None
    pix_fmt: str | None
    coded_width: int
    coded_height: int
    rotation: int  # degrees, as FFmpeg's autorotate will apply it
    fps: float  # average frame rate
    constant_fps: bool
    frames: int
    duration_sec: float
    bit_depth: int

    @property
    def width(self) -> int:
        """Displayed width: after rotation, as FFmpeg's autorotate hands frames to filters."""
        return self.coded_height if self.rotation % 180 else self.coded_width

    @property
    def height(self) -> int:
        return self.coded_width if self.rotation % 180 else self.coded_height


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    duration_sec: float


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format_name: str
    duration_sec: float
    size_bytes: int
    video: VideoInfo | None
    audio: AudioInfo | None

    @property
    def is_image(self) -> bool:
        return (
            self.video is not None and self.video.codec in IMAGE_CODECS and self.video.frames <= 1
        )


def probe(path: str | Path, *, field: str | None = None) -> MediaInfo:
    """Probe ``path``; any unreadable, empty, truncated or non-media file is SourceUnavailable."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise SourceUnavailable(
            f"{path.name}: file not found", field=field, code="source_not_found"
        ) from None
    if size == 0:
        raise SourceUnavailable(f"{path.name}: file is empty", field=field, code="source_empty")
    try:
        with av.open(str(path), metadata_errors="ignore", options=OPEN_OPTIONS) as container:
            return _probe_open(container, path, size)
    except SourceUnavailable as exc:
        exc.field = field
        raise
    except (av.error.FFmpegError, EOFError, ValueError, OSError) as exc:
        raise SourceUnavailable(
            f"{path.name}: not a readable media file ({exc})", field=field, code="source_unreadable"
        ) from None


def _probe_open(container: av.container.InputContainer, path: Path, size: int) -> MediaInfo:
    video = audio = None
    if container.streams.video:
        video = _probe_video(container, container.streams.video[0], path)
    if container.streams.audio:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        duration = _seconds(stream.duration, stream.time_base) or _container_seconds(container)
        audio = AudioInfo(
            codec=ctx.name,
            sample_rate=ctx.sample_rate or 0,
            channels=ctx.channels or 0,
            duration_sec=duration,
        )
    return MediaInfo(
        path=str(path),
        format_name=container.format.name,
        duration_sec=_container_seconds(container),
        size_bytes=size,
        video=video,
        audio=audio,
    )


def _probe_video(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> VideoInfo:
    ctx = stream.codec_context
    rotation = 0
    pix_fmt = ctx.pix_fmt
    for frame in container.decode(stream):
        rotation = round(getattr(frame, "rotation", 0) or 0) % 360
        pix_fmt = frame.format.name
        break
    else:
        raise SourceUnavailable(f"{path.name}: no decodable video frame", code="source_unreadable")

    container.seek(0)
    frames = 0
    first_pts: int | None = None
    end_pts = 0
    durations: set[int] = set()
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            frames += 1
            first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
            end_pts = max(end_pts, packet.pts + (packet.duration or 0))
            if packet.duration:
                durations.add(packet.duration)
    except av.error.FFmpegError as exc:
        raise SourceUnavailable(
            f"{path.name}: truncated or corrupt after {frames} frames ({exc})",
            code="source_truncated",
        ) from None
    tb = stream.time_base or Fraction(1, 1)
    duration = float((end_pts - (first_pts or 0)) * tb) if frames else 0.0
    stream_duration = _seconds(stream.duration, stream.time_base)
    if stream_duration and duration and duration < stream_duration - 0.5:
        raise SourceUnavailable(
            f"{path.name}: truncated: {duration:.2f}s of {stream_duration:.2f}s present",
            code="source_truncated",
        )
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else (frames / duration if duration else 0.0)
    if not math.isfinite(fps) or fps <= 0:
        fps = 0.0
    return VideoInfo(
        codec=ctx.name,
        profile=stream.profile,
        pix_fmt=pix_fmt,
        coded_width=ctx.width,
        coded_height=ctx.height,
        rotation=rotation,
        fps=fps,
        constant_fps=len(durations) <= 1,
        frames=frames,
        duration_sec=duration or stream_duration or _container_seconds(container),
        bit_depth=_bit_depth(pix_fmt),
    )


def _bit_depth(pix_fmt: str | None) -> int:
    if not pix_fmt:
        return 8
    for depth in (16, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8


def _seconds(value: int | None, time_base: Fraction | None) -> float:
    if value is None or time_base is None:
        return 0.0
    return float(value * time_base)


def _container_seconds(container: av.container.InputContainer) -> float:
    return container.duration / av.time_base if container.duration else 0.0
