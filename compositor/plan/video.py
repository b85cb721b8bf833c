"""Video filter chains, built with ffmpeg-python (the graph stays data until ``get_args``).

Filter reference: https://ffmpeg.org/ffmpeg-filters.html
"""

from __future__ import annotations

from typing import Any

import ffmpeg

from compositor.plan.clips import ClipPlan
from compositor.plan.geometry import contain_size, cover_crop, even
from compositor.plan.segments import stitch
from compositor.timeline import DurationPlan, Segment

Stream = Any  # ffmpeg-python streams are untyped

# Extra frames a video clip may lack at its end (rounding of -t, a short last frame): tpad
# repeats the last one; the trim after it makes every clip exactly its planned length.
CLIP_PAD_FRAMES = 3


def scale(stream: Stream, width: int, height: int, flags: str) -> Stream:
    # One swscale pass converts size, range and matrix together; format pins 8-bit 4:2:0.
    return stream.filter(
        "scale", width, height, flags=flags, out_color_matrix="bt709", out_range="tv"
    ).filter("format", "yuv420p")


def _cover_crop_of(clip: ClipPlan, out_w: int, out_h: int) -> tuple[int, int, int, int] | None:
    """The cover crop (w, h, x, y) of ``clip``, or None when the source already has the shape."""
    video = clip.media.video
    assert video is not None
    crop = cover_crop(video.width, video.height, out_w, out_h)
    if (crop.width, crop.height) == (video.width, video.height):
        return None
    return crop.width, crop.height, crop.x, crop.y


def fit_before_stitch(stream: Stream, clip: ClipPlan, out_w: int, out_h: int) -> Stream:
    """The part of fitting that shrinks a frame: the cover crop (crop before scale)."""
    if clip.fit == "cover" and (crop := _cover_crop_of(clip, out_w, out_h)) is not None:
        return stream.filter("crop", *crop)
    return stream


def fit_after_stitch(stream: Stream, clip: ClipPlan, out_w: int, out_h: int, flags: str) -> Stream:
    """The rest of fitting ``clip``'s geometry, on frames ``fit_before_stitch`` has been through:
    scale (cover), scale and letterbox (contain), or the blurred-background composite (blur)."""
    video = clip.media.video
    assert video is not None
    src_w, src_h = video.width, video.height
    if clip.fit == "cover":
        return scale(stream, out_w, out_h, flags)
    width, height = contain_size(src_w, src_h, out_w, out_h)
    if clip.fit == "contain":
        stream = scale(stream, width, height, flags)
        if (width, height) != (out_w, out_h):
            stream = stream.filter(
                "pad", out_w, out_h, (out_w - width) // 2, (out_h - height) // 2, color="black"
            )
        return stream
    # blur: the clip, contained, over a blurred and enlarged copy of itself. The blur runs at a
    # sixth of the size (it is a blur: detail lost there is not missed) and is scaled back up.
    split = stream.split()
    background = split[0]
    if (crop := _cover_crop_of(clip, out_w, out_h)) is not None:
        background = background.filter("crop", *crop)
    background = (
        scale(background, even(out_w / 6), even(out_h / 6), "fast_bilinear")
        .filter("boxblur", luma_radius=6, luma_power=2)
        .filter("scale", out_w, out_h, flags="bilinear")
    )
    foreground = scale(split[1], width, height, flags)
    return ffmpeg.overlay(
        background, foreground, x=(out_w - width) // 2, y=(out_h - height) // 2
    ).filter("format", "yuv420p")


def fit_frame(stream: Stream, clip: ClipPlan, out_w: int, out_h: int, flags: str) -> Stream:
    """Any frame of ``clip`` -> the output size, by its fit."""
    return fit_after_stitch(fit_before_stitch(stream, clip, out_w, out_h), clip, out_w, out_h,
                            flags)  # fmt: skip


def shared_geometry(clips: list[ClipPlan]) -> ClipPlan | None:
    """A clip whose fitting stands for every clip, when all can be fitted once, after stitching.

    Moving pictures of one displayed size and fit (one camera's footage, generated shots) are
    stitched cropped but unscaled and scaled once: fades blend the small frames, and one scaler
    serves the whole render instead of one (with its pool of output frames) per clip. A still
    is never in such a group: it is fitted once, before its frame is cloned.
    """
    if any(clip.is_image for clip in clips):
        return None

    def geometry(clip: ClipPlan) -> tuple[int, int, str]:
        video = clip.media.video
        assert video is not None
        return video.width, video.height, clip.fit

    first = geometry(clips[0])
    return clips[0] if all(geometry(clip) == first for clip in clips) else None


def clip_video(
    stream: Stream,
    clip: ClipPlan,
    *,
    width: int,
    height: int,
    fps: int,
    flags: str,
    fit_later: bool = False,
) -> Stream:
    """Any source -> exactly ``clip.frames`` frames at a constant rate, SAR 1: fitted to
    width x height yuv420p, or with ``fit_later`` only cropped (``fit_after_stitch`` follows)."""
    video = clip.media.video
    assert video is not None
    stream = stream.filter("setpts", "PTS-STARTPTS")
    # Drop surplus frames before the scaler sees them; duplicate missing ones after it.
    early_fps = not clip.is_image and video.fps > fps + 0.01
    if early_fps:
        stream = stream.filter("fps", fps)
    if fit_later:
        # One pixel format for the stitching filters (a 10-bit or 4:4:4 source converts here,
        # at its own, cropped size).
        stream = fit_before_stitch(stream, clip, width, height).filter("format", "yuv420p")
    else:
        stream = fit_frame(stream, clip, width, height, flags)
    stream = stream.filter("setsar", 1)
    if clip.is_image:
        # One decoded, scaled frame, cloned: no per-frame decode or scale of a still.
        stream = stream.filter("tpad", stop_mode="clone", stop=clip.frames)
    else:
        stream = stream.filter("tpad", stop_mode="clone", stop=CLIP_PAD_FRAMES)
    return (
        stream.filter("fps", fps)
        .filter("trim", end_frame=clip.frames)
        .filter("setpts", "PTS-STARTPTS")
    )


def stitch_video(
    streams: list[Stream], clip_frames: list[int], segments: list[Segment], fps: int
) -> Stream:
    """Concatenate the timeline's segments; fades are xfade segments of a tail and a head."""

    def xfade(tail: Stream, head: Stream, segment: Segment) -> Stream:
        return ffmpeg.filter(
            [tail, head],
            "xfade",
            transition="fade",
            duration=seconds_text(segment.frames / fps),
            offset=0,
        )

    return stitch(streams, clip_frames, segments, xfade)


def normalize_video(stream: Stream, duration: DurationPlan, fps: int) -> Stream:
    """Speed change (fit), then hold the last frame or cut, to exactly the slot's frames."""
    if duration.speed != 1:
        stream = stream.filter(
            "setpts", f"(PTS-STARTPTS)*{duration.speed.denominator}/{duration.speed.numerator}"
        ).filter("fps", fps)
    if duration.pad_frames or duration.speed != 1:
        stream = stream.filter(
            "tpad", stop_mode="clone", stop=duration.pad_frames + CLIP_PAD_FRAMES
        )
    return stream.filter("trim", end_frame=duration.slot_frames).filter("setpts", "PTS-STARTPTS")


def seconds_text(seconds: float) -> str:
    """Fixed-point seconds for filter options (no exponent, no float repr noise)."""
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"
