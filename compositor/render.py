"""The engine's entry point: job -> verified MP4 and poster, published atomically.

resolve sources -> probe -> plan (pure) -> run FFmpeg once in a private folder -> verify the
written file -> rename into place. A render that fails, times out, is cancelled or misses the
slot leaves nothing at the destination.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compositor.errors import CompositorError, DurationOutOfTolerance, SourceUnavailable
from compositor.ffmpeg_bin import find_ffmpeg
from compositor.job import Job
from compositor.plan.build import EncodeOptions, RenderPlan, build_plan
from compositor.plan.clips import ClipPlan, plan_clips
from compositor.plan.copy import copy_blockers, copy_plan
from compositor.poster import write_poster
from compositor.probe import probe
from compositor.runner import ProgressCallback, run_ffmpeg
from compositor.settings import Settings
from compositor.sources import SourceResolver
from compositor.verify import Verification, verify_output

log = logging.getLogger(__name__)

StageCallback = Callable[[str], None]


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
    """A job whose sources are local and probed, and its plans."""

    job: Job
    clips: list[ClipPlan]
    plan: RenderPlan
    fallback: RenderPlan | None  # the full render, when ``plan`` is the stream-copy fast path


def encode_options(settings: Settings, preset: str | None = None) -> EncodeOptions:
    return EncodeOptions(
        preset=preset or settings.preset,
        crf=settings.crf,
        audio_bitrate=settings.audio_bitrate,
        threads=settings.ffmpeg_threads,
    )


def prepare(
    job: Job, resolver: SourceResolver, settings: Settings, *, preset: str | None = None
) -> PreparedJob:
    """Resolve and probe every source and build the plan; raises before anything renders."""
    paths = [
        str(resolver.resolve(clip.source, f"clips[{i}].source")) for i, clip in enumerate(job.clips)
    ]
    probes = [probe(path, field=f"clips[{i}].source") for i, path in enumerate(paths)]
    clips = plan_clips(job, paths, probes, max_pixels=settings.max_source_pixels)
    watermark_image = None
    if job.watermark is not None and job.watermark.image is not None:
        image = resolver.resolve(job.watermark.image, "watermark.image")
        media = probe(image, field="watermark.image")
        if not media.is_image:
            raise SourceUnavailable("watermark.image: not a still image", field="watermark.image",
                                    code="source_unsupported")  # fmt: skip
        watermark_image = str(image)
    full = build_plan(
        job, clips, encode=encode_options(settings, preset), watermark_image=watermark_image
    )
    blockers = copy_blockers(job, clips)
    if not blockers:
        return PreparedJob(job, clips, copy_plan(job, clips), fallback=full)
    log.debug("full render: %s", "; ".join(blockers))
    return PreparedJob(job, clips, full, fallback=None)


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
    stage("fetching")
    prepared = prepare(job, resolver, settings, preset=preset)
    poster_path = poster_path or output_path.with_suffix(".jpg")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg = find_ffmpeg(settings.ffmpeg_path)
    # The working folder sits beside the destination (same filesystem: the publish is an atomic
    # rename) unless a work_dir is configured.
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=settings.temp_root() or output_path.parent))
    try:
        plans = [prepared.plan] + ([prepared.fallback] if prepared.fallback else [])
        for attempt, plan in enumerate(plans):
            try:
                stage("rendering")
                verification = _run(plan, work, ffmpeg.path, job, settings, on_progress, cancel,
                                    stage)  # fmt: skip
            except DurationOutOfTolerance:
                if attempt + 1 < len(plans):
                    log.info("stream copy missed the slot; rendering in full")
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
