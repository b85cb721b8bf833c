"""Check each clip against its probe and fix its length in output frames (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compositor.errors import InvalidJob, SourceUnavailable
from compositor.formats import ALLOWED_FORMATS
from compositor.job import Fit, Job
from compositor.probe import MediaInfo
from compositor.timeline import frames_of


@dataclass(frozen=True)
class ClipPlan:
    index: int
    path: str
    media: MediaInfo
    in_sec: float
    length_sec: float  # of the source range that is read
    frames: int  # output frames the clip contributes before any fade overlap
    fit: Fit
    is_image: bool

    @property
    def has_audio(self) -> bool:
        return self.media.audio is not None and not self.is_image


def fade_frames_of(job: Job) -> int:
    """Frames each join overlaps: the fade's length, or 0 for cuts."""
    if job.transition.type != "fade":
        return 0
    return frames_of(job.transition.duration_sec, job.output.fps)


def format_allowed(format_name: str) -> bool:
    return any(name in ALLOWED_FORMATS for name in format_name.split(","))


def plan_clips(
    job: Job, paths: Sequence[str], probes: Sequence[MediaInfo], *, max_pixels: int
) -> list[ClipPlan]:
    fps = job.output.fps
    fade_frames = fade_frames_of(job)
    plans = []
    for index, (clip, path, media) in enumerate(zip(job.clips, paths, probes, strict=True)):
        field = f"clips[{index}]"
        if not format_allowed(media.format_name):
            raise SourceUnavailable(
                f"{field}.source: {media.format_name} files are not accepted",
                field=f"{field}.source",
                code="source_unsupported",
            )
        if media.video is None:
            raise SourceUnavailable(
                f"{field}.source: has no video stream (audio-only files go in audio.music)",
                field=f"{field}.source",
                code="source_has_no_video",
            )
        if media.video.width * media.video.height > max_pixels:
            raise SourceUnavailable(
                f"{field}.source: {media.video.width}x{media.video.height} is larger than "
                f"the {max_pixels} pixels accepted",
                field=f"{field}.source",
                code="source_too_large",
            )
        if media.is_image:
            if clip.out_sec is None:
                raise InvalidJob(
                    f"{field}.outSec: required for a still image (it sets the clip's length)",
                    field=f"{field}.outSec",
                    code="missing_field",
                )
            length = clip.out_sec - clip.in_sec
        else:
            available = media.video.duration_sec
            if clip.in_sec >= available:
                raise InvalidJob(
                    f"{field}.inSec: {clip.in_sec:g}s is past the end of the source "
                    f"({available:.3f}s)",
                    field=f"{field}.inSec",
                    code="in_sec_past_end",
                )
            end = available if clip.out_sec is None else clip.out_sec
            if end > available + 1 / fps:
                raise InvalidJob(
                    f"{field}.outSec: {end:g}s is past the end of the source ({available:.3f}s)",
                    field=f"{field}.outSec",
                    code="out_sec_past_end",
                )
            length = min(end, available) - clip.in_sec
        frames = frames_of(length, fps)
        if frames < 1:
            raise InvalidJob(f"{field}: shorter than one frame", field=field, code="clip_too_short")
        if fade_frames and frames < 2 * fade_frames:
            raise InvalidJob(
                f"{field}: {length:.3f}s is shorter than twice the fade "
                f"({2 * job.transition.duration_sec:g}s)",
                field=field,
                code="clip_too_short_for_fade",
            )
        plans.append(
            ClipPlan(
                index=index,
                path=path,
                media=media,
                in_sec=clip.in_sec,
                length_sec=length,
                frames=frames,
                fit=job.fit_of(clip),
                is_image=media.is_image,
            )
        )
    return plans
