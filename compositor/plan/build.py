"""Job + probes -> a frozen render plan -> FFmpeg argv. Pure: nothing here runs FFmpeg.

One FFmpeg process renders the whole job: every clip is an input, the filter graph normalizes,
stitches, normalizes duration, burns text and watermark, measures loudness, and writes the MP4.
The poster is cut from the verified file afterwards (compositor.poster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg

from compositor.ass import build_ass
from compositor.formats import FORMAT_WHITELIST, PROTOCOLS
from compositor.job import Job
from compositor.plan import audio as audio_chain
from compositor.plan import video as video_chain
from compositor.plan.clips import ClipPlan, fade_frames_of
from compositor.plan.geometry import even
from compositor.plan.mix import MixPlan, apply_loudness, mix
from compositor.plan.video import seconds_text
from compositor.timeline import (
    SAMPLE_RATE,
    ClipSpan,
    DurationPlan,
    Segment,
    frames_of,
    normalize_duration,
    samples_per_frame,
    stitch_segments,
    stitch_spans,
    stitched_frames,
)

ASS_NAME = "overlay.ass"  # written into the render's working folder; FFmpeg runs there
PREMIX_NAME = "mix.wav"  # the audio pass's output, read by the render
OUTPUT_NAME = "render.mp4"
# ffmpeg-python appends global options after the outputs, where FFmpeg ignores them: they go
# first, by hand.
GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-y", "-loglevel", "level+info")


@dataclass(frozen=True)
class EncodeOptions:
    preset: str = "veryfast"
    crf: int = 20
    audio_bitrate: str = "192k"
    threads: int = 0
    filter_threads: int = 1
    scale_flags: str = "bicubic"

    @property
    def global_args(self) -> tuple[str, ...]:
        # One filter thread by default: slice-threading dozens of small filters per frame costs
        # more in synchronization than it gains while x264 keeps every core busy (measured on
        # the reference job, 2 cores: -1.8 CPU-s, 1.38x -> 1.25x the encoder floor).
        if not self.filter_threads:
            return GLOBAL_ARGS
        return (*GLOBAL_ARGS, "-filter_complex_threads", str(self.filter_threads))


@dataclass(frozen=True)
class RenderPlan:
    """Everything one FFmpeg run needs, as data. Run it in ``work_dir`` with ``to_argv``."""

    args: tuple[str, ...]
    work_files: tuple[tuple[str, str], ...]  # (name in the working folder, text)
    width: int
    height: int
    fps: int
    duration: DurationPlan
    spans: tuple[ClipSpan, ...]
    poster_frame: int
    output_name: str = OUTPUT_NAME
    copy_only: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def slot_sec(self) -> float:
        return self.duration.slot_frames / self.fps

    @property
    def filter_complex(self) -> str:
        args = list(self.args)
        return args[args.index("-filter_complex") + 1] if "-filter_complex" in args else ""

    def to_argv(self, ffmpeg_path: str) -> list[str]:
        return [ffmpeg_path, *self.args]


def _distinct(stream: Any, *key: object) -> Any:
    """Give an input node its own identity.

    ffmpeg-python identifies nodes by a hash of their arguments, so the same file used twice
    with the same range would collapse into one input feeding two chains. Sharing one decoder
    through ``split`` would buffer a whole clip in memory; a second input is what we want.
    ffmpeg-python (0.2.0, unchanged since 2019) keeps the hash in this private attribute.
    """
    node = stream.node
    node._KwargReprNode__hash = hash((hash(node), *key))
    return stream


def _decoder_threads(clip: ClipPlan) -> int:
    """One decoding thread up to 1080p: frame threads each hold frames in flight, which adds
    up over every input of a render, and one core decodes 1080p H.264 far faster than x264
    encodes the output. Larger sources get two."""
    video = clip.media.video
    assert video is not None
    return 1 if video.width * video.height <= 1920 * 1080 else 2


def _clip_input(clip: ClipPlan, fps: int, **only: None) -> Any:
    """The clip's source as an input (``vn=None``: its audio only, for the measuring pass)."""
    path = "file:" + str(Path(clip.path).resolve())
    common = {
        "protocol_whitelist": PROTOCOLS,
        "format_whitelist": FORMAT_WHITELIST,
        "threads": _decoder_threads(clip),
    }
    if clip.is_image:
        # One frame is read (no -loop); the graph clones it. pattern_type none: a "%d" in a
        # file name is a name, not an image sequence.
        return ffmpeg.input(path, f="image2", pattern_type="none", framerate=fps, **common)
    margin = 2 / fps
    options: dict[str, Any] = {"t": f"{clip.length_sec + margin:.6f}", **common, **only}
    if clip.in_sec:
        options["ss"] = f"{clip.in_sec:.6f}"
    return ffmpeg.input(path, **options)


@dataclass(frozen=True)
class Timeline:
    """The frame arithmetic of a job: clip lengths, segments, duration normalization."""

    fps: int
    samples_per_frame: int
    clip_frames: list[int]
    segments: list[Segment]
    spans: list[ClipSpan]
    duration: DurationPlan

    @property
    def slot_samples(self) -> int:
        return self.duration.slot_frames * self.samples_per_frame


def timeline_of(job: Job, clips: list[ClipPlan]) -> Timeline:
    fps = job.output.fps
    fade_frames = fade_frames_of(job)
    clip_frames = [clip.frames for clip in clips]
    return Timeline(
        fps=fps,
        samples_per_frame=samples_per_frame(fps),
        clip_frames=clip_frames,
        segments=stitch_segments(clip_frames, fade_frames),
        spans=stitch_spans(clip_frames, fade_frames),
        duration=normalize_duration(
            stitched_frames(clip_frames, fade_frames),
            frames_of(job.output.duration_sec, fps),
            job.output.duration_mode,
        ),
    )


def _audio_mix(
    job: Job,
    clips: list[ClipPlan],
    timeline: Timeline,
    audio_sources: dict[int, Any],
    mix_plan: MixPlan | None,
) -> Any:
    """Native audio (stitched like the picture, at nativeVolume, normalized to the slot), mixed
    with narration and music. ``audio_sources`` maps clip index to an input with its audio."""
    fps, spf = timeline.fps, timeline.samples_per_frame
    audios = []
    for clip in clips:
        if clip.has_audio:
            raw_audio = audio_sources[clip.index].audio
        else:
            silence = audio_chain.silence(clip.frames / fps + 0.1)
            raw_audio = _distinct(silence, "silence", clip.index).audio
        audios.append(audio_chain.clip_audio(raw_audio, clip.frames * spf))
    native = audio_chain.stitch_audio(audios, timeline.clip_frames, timeline.segments, spf)
    if job.audio.native_volume != 1:
        native = native.filter("volume", f"{job.audio.native_volume:.4f}")
    native = audio_chain.normalize_audio(native, timeline.duration, spf, fps)
    if mix_plan is None:
        return native
    return mix(native, mix_plan, timeline.slot_samples, SAMPLE_RATE)


def build_premix_args(
    job: Job, clips: list[ClipPlan], mix_plan: MixPlan, encode: EncodeOptions | None = None
) -> tuple[str, ...]:
    """The audio pass before the render: the whole mix from audio inputs alone, written to
    ``PREMIX_NAME`` and measured by ebur128 (its summary, on stderr, sets the render's gain).

    The render then reads its audio from that one file: its graph decodes no clip audio, and
    no audio filter can pull a clip's sound (and, through their shared demuxer, its decoded
    pictures) ahead of time. With loudnorm's 3 s look-ahead inside the render graph that cost
    +640 MB and +2 s on the reference commercial (docs/decisions.md)."""
    assert mix_plan.loudness_target is not None
    timeline = timeline_of(job, clips)
    sources = {
        clip.index: _distinct(_clip_input(clip, timeline.fps, vn=None), "audio", clip.index)
        for clip in clips
        if clip.has_audio
    }
    split = _audio_mix(job, clips, timeline, sources, mix_plan).asplit()
    metered = ffmpeg.output(audio_chain.measure(split[0]), "-", f="null")
    written = ffmpeg.output(split[1], PREMIX_NAME, acodec="pcm_f32le", ar=SAMPLE_RATE)
    encode = encode or EncodeOptions()
    return (*encode.global_args, *ffmpeg.merge_outputs(written, metered).get_args())


def _premixed_audio(mix_plan: MixPlan, timeline: Timeline) -> Any:
    """The premixed WAV at the target loudness: the render's whole audio chain."""
    assert mix_plan.loudness_target is not None and mix_plan.loudness is not None
    wav = ffmpeg.input(PREMIX_NAME, f="wav", protocol_whitelist=PROTOCOLS).audio
    return apply_loudness(
        wav, mix_plan.loudness_target, mix_plan.loudness, timeline.slot_samples, SAMPLE_RATE
    )


def build_plan(
    job: Job,
    clips: list[ClipPlan],
    *,
    encode: EncodeOptions | None = None,
    watermark_image: str | None = None,
    mix_plan: MixPlan | None = None,
) -> RenderPlan:
    encode = encode or EncodeOptions()
    out = job.output
    width, height = out.size
    timeline = timeline_of(job, clips)
    fps, duration = timeline.fps, timeline.duration

    shared = video_chain.shared_geometry(clips)
    videos, sources = [], {}
    for clip in clips:
        source = _distinct(_clip_input(clip, fps), "clip", clip.index)
        sources[clip.index] = source
        videos.append(
            video_chain.clip_video(
                source.video,
                clip,
                width=width,
                height=height,
                fps=fps,
                flags=encode.scale_flags,
                fit_later=shared is not None,
            )
        )
    video = video_chain.stitch_video(videos, timeline.clip_frames, timeline.segments, fps)
    if shared is not None:
        video = video_chain.fit_after_stitch(video, shared, width, height, encode.scale_flags)
        video = video.filter("setsar", 1)
    video = video_chain.normalize_video(video, duration, fps)

    if mix_plan is not None and mix_plan.loudness is not None:
        mixed = _premixed_audio(mix_plan, timeline)
    else:
        mixed = _audio_mix(job, clips, timeline, sources, mix_plan)
    mixed = audio_chain.measure(mixed)

    work_files: list[tuple[str, str]] = []
    if job.watermark is not None and job.watermark.image is not None:
        assert watermark_image is not None, "the image watermark's source must be resolved"
        video = _overlay_image(video, job, watermark_image, width)
    document = build_ass(
        width=width,
        height=height,
        aspect=out.aspect,
        slot_sec=duration.slot_frames / fps,
        captions=job.captions,
        overlays=job.text_overlays,
        watermark=job.watermark,
    )
    if document is not None:
        work_files.append((ASS_NAME, document))
        # Fonts come from FONTCONFIG_FILE (the runner points it at assets/fonts), so libass
        # falls back within our fonts for emoji and scripts the primary font lacks.
        video = video.filter("ass", ASS_NAME)

    poster_frame = _poster_frame(timeline.spans[0], duration)
    # FFmpeg 7.1+ negotiates colour range apart from pixel format: pin limited range so the
    # H.264 stream is the promised yuv420p TV range whatever a filter would prefer.
    video = video.filter("format", pix_fmts="yuv420p", color_ranges="tv")
    encoder = _encoder_args(encode)
    # A keyframe where the poster is taken: cutting it later decodes one frame, not a GOP.
    encoder["force_key_frames"] = seconds_text(poster_frame / fps)
    args = (*encode.global_args, *ffmpeg.output(video, mixed, OUTPUT_NAME, **encoder).get_args())
    return RenderPlan(
        args=args,
        work_files=tuple(work_files),
        width=width,
        height=height,
        fps=fps,
        duration=duration,
        spans=tuple(timeline.spans),
        poster_frame=poster_frame,
    )


def _poster_frame(first: ClipSpan, duration: DurationPlan) -> int:
    """The middle of the first clip, on the output timeline (after any speed change)."""
    middle = round((first.start_frame + first.frames // 2) / duration.speed)
    return min(max(middle, 0), duration.slot_frames - 1)


def _overlay_image(video: Any, job: Job, image: str, width: int) -> Any:
    watermark = job.watermark
    assert watermark is not None
    target_w = even(width * watermark.size)
    margin = round(width * 0.03)
    mark = (
        ffmpeg.input(
            "file:" + str(Path(image).resolve()),
            f="image2",
            pattern_type="none",
            protocol_whitelist=PROTOCOLS,
        )
        .filter("scale", target_w, -2, flags="bicubic")
        .filter("format", "rgba")
        .filter("colorchannelmixer", aa=f"{watermark.opacity:.3f}")
    )
    x = {"left": str(margin), "right": f"W-w-{margin}", "center": "(W-w)/2"}
    y = {"top": str(margin), "bottom": f"H-h-{margin}", "center": "(H-h)/2"}
    if watermark.position == "center":
        pos_x, pos_y = x["center"], y["center"]
    else:
        vertical, horizontal = watermark.position.split("-")
        pos_x, pos_y = x[horizontal], y[vertical]
    # A single still frame: overlay repeats it to the end (eof_action=repeat), decoded once.
    return ffmpeg.overlay(video, mark, x=pos_x, y=pos_y, eof_action="repeat", format="yuv420")


def _encoder_args(encode: EncodeOptions) -> dict[str, Any]:
    args: dict[str, Any] = {
        "c:v": "libx264",
        "preset": encode.preset,
        "crf": encode.crf,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "color_primaries": "bt709",
        "color_trc": "bt709",
        "colorspace": "bt709",
        "c:a": "aac",
        "b:a": encode.audio_bitrate,
        "ar": 48000,
        "ac": 2,
        "movflags": "+faststart",
        "map_metadata": -1,
        "fps_mode": "passthrough",
    }
    if encode.preset == "ultrafast":
        # ultrafast turns off every High-profile tool, so x264 writes Baseline; the 8x8
        # transform costs little and keeps the promised High profile.
        args["x264-params"] = "8x8dct=1"
    if encode.threads:
        args["threads"] = encode.threads
    return args
