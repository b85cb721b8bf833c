"""The fast path: stitch by stream copy when nothing needs re-encoding (pure).

Allowed only when every clip is already what the output must be (H.264 High yuv420p at the
output size and frame rate, upright, AAC 48 kHz stereo as long as its video), used whole, joined
by cuts, with no text, watermark or audio change (``nativeVolume: 1``, ``loudnessLufs: null``),
and the clips fill the slot (copying cannot
pad). The result is verified like any render; if it misses, the full render runs instead.
"""

from __future__ import annotations

from pathlib import Path

from compositor.formats import PROTOCOLS
from compositor.job import Job
from compositor.plan.build import GLOBAL_ARGS, OUTPUT_NAME, RenderPlan
from compositor.plan.clips import ClipPlan
from compositor.timeline import frames_of, normalize_duration, stitch_spans

CONCAT_LIST = "clips.txt"


def copy_blockers(job: Job, clips: list[ClipPlan]) -> list[str]:
    """Why this job cannot be stream-copied (empty: it can)."""
    out = job.output
    width, height = out.size
    reasons = []
    if len(clips) > 1 and job.transition.type != "cut":
        reasons.append("fade transitions")
    if job.captions is not None and job.captions.burn_in and job.captions.cues:
        reasons.append("burned-in captions")
    if job.text_overlays:
        reasons.append("text overlays")
    if job.watermark is not None:
        reasons.append("watermark")
    audio = job.audio
    if audio.native_volume != 1 or audio.narration is not None or audio.music is not None:
        reasons.append("audio changes")
    if audio.loudness_lufs is not None:
        reasons.append("loudness normalization")
    for clip in clips:
        video, sound = clip.media.video, clip.media.audio
        assert video is not None
        if clip.is_image or sound is None:
            reasons.append(f"clip {clip.index} is a still or has no audio")
            continue
        if (video.codec, video.profile, video.pix_fmt) != ("h264", "High", "yuv420p"):
            reasons.append(f"clip {clip.index} is not H.264 High yuv420p")
        if (video.width, video.height, video.rotation) != (width, height, 0):
            reasons.append(f"clip {clip.index} is not {width}x{height} upright")
        if abs(video.fps - out.fps) > 0.01 or not video.constant_fps:
            reasons.append(f"clip {clip.index} is not constant {out.fps} fps")
        if (sound.codec, sound.sample_rate, sound.channels) != ("aac", 48000, 2):
            reasons.append(f"clip {clip.index} audio is not AAC 48 kHz stereo")
        if abs(sound.duration_sec - video.duration_sec) >= 1 / out.fps:
            reasons.append(f"clip {clip.index} audio and video lengths differ")
        if clip.in_sec > 0 or abs(clip.length_sec - video.duration_sec) > 0.5 / out.fps:
            reasons.append(f"clip {clip.index} is trimmed")
    total = sum(clip.frames for clip in clips)
    if total < frames_of(out.duration_sec, out.fps) - frames_of(out.tolerance_sec, out.fps) // 2:
        reasons.append("content is shorter than the slot")
    return reasons


def copy_plan(job: Job, clips: list[ClipPlan]) -> RenderPlan:
    """A concat-demuxer stream copy, cut at the slot."""
    out = job.output
    width, height = out.size
    fps = out.fps
    spans = stitch_spans([clip.frames for clip in clips], 0)
    slot_frames = frames_of(out.duration_sec, fps)
    duration = normalize_duration(sum(clip.frames for clip in clips), slot_frames, "trim-pad")
    listing = "ffconcat version 1.0\n" + "".join(
        f"file '{_concat_quote('file:' + str(Path(clip.path).resolve()))}'\n" for clip in clips
    )
    args = (
        *GLOBAL_ARGS,
        "-f", "concat", "-safe", "0", "-protocol_whitelist", PROTOCOLS, "-i", CONCAT_LIST,
        "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-t", f"{slot_frames / fps:.6f}",
        "-movflags", "+faststart", "-map_metadata", "-1", OUTPUT_NAME,
    )  # fmt: skip
    return RenderPlan(
        args=args,
        work_files=((CONCAT_LIST, listing),),
        width=width,
        height=height,
        fps=fps,
        duration=duration,
        spans=tuple(spans),
        poster_frame=clips[0].frames // 2,
        copy_only=True,
    )


def _concat_quote(path: str) -> str:
    """Quote for ffconcat's single-quoted strings: ' becomes '\\''."""
    return path.replace("'", "'\\''")
