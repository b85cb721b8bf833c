"""The engine's entry point: job -> verified MP4 and poster, published atomically.

resolve and probe sources, synthesize narration -> measure the mix's loudness (audio only) ->
plan (pure) -> run FFmpeg once in a private folder -> verify the written file -> cut the poster
-> rename into place. A render that fails, times out, is cancelled or misses the slot leaves
nothing at the destination.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compositor.errors import CompositorError, DurationOutOfTolerance, SourceUnavailable
from compositor.ffmpeg_bin import find_ffmpeg
from compositor.job import Captions, Cue, Job, Word
from compositor.plan.build import EncodeOptions, RenderPlan, build_plan, build_premix_args
from compositor.plan.clips import ClipPlan, plan_clips
from compositor.plan.copy import copy_blockers, copy_plan
from compositor.plan.mix import LoudnessMeasurement, MixPlan, Music, Voice
from compositor.poster import write_poster
from compositor.probe import probe
from compositor.runner import ProgressCallback, run_ffmpeg
from compositor.settings import Settings
from compositor.sources import SourceResolver
from compositor.timeline import SAMPLE_RATE
from compositor.verify import Verification, parse_loudness, verify_output

if TYPE_CHECKING:
    from compositor.narration import NarrationTrack

log = logging.getLogger(__name__)

StageCallback = Callable[[str], None]
MIN_MUSIC_SEC = 1.0  # shorter music would loop into a buzz; refused with its field


@dataclass(frozen=True)
class RenderResult:
    path: Path
    poster_path: Path
    duration_sec: float
    width: int
    height: int
    fps: int
    verification: Verification
    render_sec: float
    fast_path: bool

    @property
    def realtime_factor(self) -> float:
        """Seconds of output per second of wall time (2.0: twice as fast as playback)."""
        return self.duration_sec / self.render_sec if self.render_sec else 0.0

    def to_dict(self, *, url: str | None = None, poster_url: str | None = None) -> dict[str, Any]:
        location: dict[str, Any] = (
            {"url": url, "posterUrl": poster_url}
            if url is not None
            else {"path": str(self.path), "posterPath": str(self.poster_path)}
        )
        return {
            **location,
            "durationSec": round(self.duration_sec, 4),
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "verification": self.verification.to_dict(),
            "renderSec": round(self.render_sec, 3),
            "realtimeFactor": round(self.realtime_factor, 3),
            "fastPath": self.fast_path,
        }


@dataclass(frozen=True)
class PreparedJob:
    """A job whose sources are local and probed, its narration synthesized."""

    job: Job  # with captions filled from the narration when it asked for them
    clips: list[ClipPlan]
    watermark_image: str | None
    narration: NarrationTrack | None
    mix_plan: MixPlan | None


def encode_options(settings: Settings, preset: str | None = None) -> EncodeOptions:
    return EncodeOptions(
        preset=preset or settings.preset,
        crf=settings.crf,
        audio_bitrate=settings.audio_bitrate,
        threads=settings.ffmpeg_threads,
        filter_threads=settings.filter_threads,
    )


def prepare(job: Job, resolver: SourceResolver, settings: Settings, work_dir: Path) -> PreparedJob:
    """Resolve and probe every source and synthesize narration into ``work_dir``; raises
    before anything renders."""
    paths = [
        str(resolver.resolve(clip.source, f"clips[{i}].source")) for i, clip in enumerate(job.clips)
    ]
    probes = [probe(path, field=f"clips[{i}].source") for i, path in enumerate(paths)]
    clips = plan_clips(job, paths, probes, max_pixels=settings.max_source_pixels)
    watermark_image = None
    if job.watermark is not None and job.watermark.image is not None:
        image = resolver.resolve(job.watermark.image, "watermark.image")
        if not probe(image, field="watermark.image").is_image:
            raise SourceUnavailable("watermark.image: not a still image", field="watermark.image",
                                    code="source_unsupported")  # fmt: skip
        watermark_image = str(image)
    music = _music(job, resolver)
    narration = None
    if job.audio.narration is not None:
        # Imported here: speech and caption libraries cost a CLI render without narration
        # ~0.3 s of start-up for nothing.
        from compositor.narration import narrate

        narration = narrate(job.audio, job.output, settings, work_dir, resolver=resolver)
    job = _with_narration_captions(job, narration)
    return PreparedJob(job, clips, watermark_image, narration, _mix_plan(job, narration, music))


def _music(job: Job, resolver: SourceResolver) -> Music | None:
    audio = job.audio
    if audio.music is None:
        return None
    field = "audio.music.source"
    path = resolver.resolve(audio.music.source, field)
    media = probe(path, field=field)
    if media.audio is None:
        raise SourceUnavailable(f"{field}: has no audio", field=field, code="source_not_audio")
    if media.audio.duration_sec < MIN_MUSIC_SEC:
        raise SourceUnavailable(
            f"{field}: {media.audio.duration_sec:.2f}s of music is shorter than the "
            f"{MIN_MUSIC_SEC:g}s a loop needs",
            field=field,
            code="music_too_short",
        )
    needed = job.output.duration_sec - audio.music_start_sec
    return Music(
        path=str(path),
        volume=audio.music_volume,
        start_samples=round(audio.music_start_sec * SAMPLE_RATE),
        loops=media.audio.duration_sec < needed,
    )


def _mix_plan(job: Job, narration: NarrationTrack | None, music: Music | None) -> MixPlan | None:
    audio = job.audio
    voice = None
    if narration is not None:
        voice = Voice(
            path=str(narration.narration.path),
            pace=narration.pace,
            pitch_semitones=audio.pitch,
            volume=audio.voice_volume,
            start_samples=round(narration.voice_start_ms * SAMPLE_RATE / 1000),
        )
    if voice is None and music is None and audio.loudness_lufs is None:
        return None
    return MixPlan(voice=voice, music=music, ducking=audio.ducking,
                   loudness_target=audio.loudness_lufs)  # fmt: skip


def _with_narration_captions(job: Job, narration: NarrationTrack | None) -> Job:
    """Captions asked for without cues, on a narrated job: cue them from the narration itself."""
    captions = job.captions
    if narration is None or captions is None or captions.cues or not captions.burn_in:
        return job
    from compositor.captions.script import cues_for_track

    cues = [
        Cue(
            start_sec=cue.start_ms / 1000,
            end_sec=cue.end_ms / 1000,
            text=cue.text,
            words=[
                Word(text=w.text, start_sec=w.start_ms / 1000, end_sec=w.end_ms / 1000)
                for w in cue.words
            ],
        )
        for cue in cues_for_track(narration)
    ]
    filled = Captions(cues=cues, style=captions.style, burn_in=captions.burn_in)
    return job.model_copy(update={"captions": filled})


def _plans(prepared: PreparedJob, settings: Settings, preset: str | None) -> list[RenderPlan]:
    """The stream-copy fast path first when nothing needs re-encoding, then the full render."""
    job, clips = prepared.job, prepared.clips
    full = build_plan(
        job,
        clips,
        encode=encode_options(settings, preset),
        watermark_image=prepared.watermark_image,
        mix_plan=prepared.mix_plan,
    )
    blockers = copy_blockers(job, clips)
    if blockers:
        log.debug("full render: %s", "; ".join(blockers))
        return [full]
    return [copy_plan(job, clips), full]


def render(
    job: Job,
    output_path: Path,
    *,
    resolver: SourceResolver,
    settings: Settings,
    poster_path: Path | None = None,
    preset: str | None = None,
    on_progress: ProgressCallback | None = None,
    on_stage: StageCallback | None = None,
    cancel: threading.Event | None = None,
) -> RenderResult:
    """Render ``job`` into ``output_path`` (and its poster) or raise a CompositorError."""
    started = time.monotonic()
    stage = on_stage or (lambda _name: None)
    poster_path = poster_path or output_path.with_suffix(".jpg")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg = find_ffmpeg(settings.ffmpeg_path)
    # The working folder sits beside the destination (same filesystem: the publish is an atomic
    # rename) unless a work_dir is configured.
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=settings.temp_root() or output_path.parent))
    try:
        stage("fetching")
        prepared = prepare(job, resolver, settings, work)
        stage("rendering")
        prepared = _measure_loudness(prepared, work, ffmpeg.path, settings, cancel, preset)
        plans = _plans(prepared, settings, preset)
        for attempt, plan in enumerate(plans):
            try:
                verification = _run(plan, work, ffmpeg.path, job, settings, on_progress, cancel,
                                    stage)  # fmt: skip
            except DurationOutOfTolerance:
                if attempt + 1 < len(plans):
                    log.info("stream copy missed the slot; rendering in full")
                    stage("rendering")
                    continue
                raise
            write_poster(work / plan.output_name, plan.poster_frame / plan.fps, work / "poster.jpg")
            _publish(work / plan.output_name, output_path)
            _publish(work / "poster.jpg", poster_path)
            return RenderResult(
                path=output_path,
                poster_path=poster_path,
                duration_sec=verification.duration_sec,
                width=plan.width,
                height=plan.height,
                fps=plan.fps,
                verification=verification,
                render_sec=time.monotonic() - started,
                fast_path=plan.copy_only,
            )
        raise AssertionError("unreachable: the last plan either returns or raises")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure_loudness(
    prepared: PreparedJob,
    work: Path,
    ffmpeg_path: str,
    settings: Settings,
    cancel: threading.Event | None,
    preset: str | None,
) -> PreparedJob:
    """First pass of two-pass loudness normalization: the mix alone, written to a WAV for the
    render and measured by ebur128 (integrated loudness, true peak).

    One pass (loudnorm's dynamic mode) misses short mixes by more than 1 LU and pumps the
    music; the audio-only pass costs a fraction of the render (no video is decoded)."""
    mix_plan = prepared.mix_plan
    if mix_plan is None or mix_plan.loudness_target is None:
        return prepared
    args = build_premix_args(
        prepared.job, prepared.clips, mix_plan, encode_options(settings, preset)
    )
    result = run_ffmpeg([ffmpeg_path, *args], cwd=work, timeout_sec=settings.render_timeout_sec,
                        cancel=cancel, nice=settings.nice)  # fmt: skip
    integrated, true_peak = parse_loudness(result.stderr_tail)
    if integrated is None or true_peak is None:  # silence (-inf): nothing to bring up
        measured = LoudnessMeasurement(integrated=-70.0, true_peak=-70.0)
    else:
        measured = LoudnessMeasurement(integrated=integrated, true_peak=true_peak)
    return replace(prepared, mix_plan=replace(mix_plan, loudness=measured))


def _run(
    plan: RenderPlan,
    work: Path,
    ffmpeg_path: str,
    job: Job,
    settings: Settings,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
    stage: StageCallback,
) -> Verification:
    for name, text in plan.work_files:
        (work / name).write_text(text, encoding="utf-8")
    result = run_ffmpeg(
        plan.to_argv(ffmpeg_path),
        cwd=work,
        fonts_dir=settings.fonts_dir,
        expected_sec=plan.slot_sec,
        on_progress=on_progress,
        timeout_sec=settings.render_timeout_sec,
        cancel=cancel,
        nice=settings.nice,
    )
    stage("verifying")
    return verify_output(
        work / plan.output_name,
        target_sec=job.output.duration_sec,
        tolerance_sec=job.output.tolerance_sec,
        width=plan.width,
        height=plan.height,
        fps=plan.fps,
        stderr_tail=result.stderr_tail,
    )


def _publish(source: Path, destination: Path) -> None:
    """Atomic: the destination holds the old file or the whole new one, never a part."""
    try:
        os.replace(source, destination)
    except OSError:  # another filesystem: copy beside the destination, then rename
        partial = destination.with_name(f".{destination.name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, destination)


__all__ = ["CompositorError", "PreparedJob", "RenderResult", "prepare", "render"]
