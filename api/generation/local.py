"""The local provider (the default): every shot is a real clip rendered by the compositor.

Each shot is a builtin background loop (``builtin:bg-aurora``... 720x720, 8 s, moving
gradients with a gentle ambient sound) at the requested aspect, with the shot's title as a
text overlay. The shots cut together make the preview video; its poster is the thumbnail.
Nothing needs the network.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.generation import (
    GenerationFailed,
    GenerationJob,
    GenerationOutput,
    GenerationRequest,
    GenerationUnavailable,
    RunContext,
    SourcePlan,
    media_key,
)
from api.generation.script import BACKGROUNDS, plan_source
from compositor.errors import CompositorError
from compositor.ffmpeg_bin import find_ffmpeg
from compositor.job import Job, parse_job
from compositor.render import RenderResult, render
from compositor.settings import Settings
from compositor.sources import LocalResolver, resolve_builtin

BACKGROUND_LOOP_SEC = 8.0  # length of the builtin background clips
TITLE_MARGIN_SEC = 0.1

ShotRenderer = Callable[[Job, Path, LocalResolver, Settings, RunContext], RenderResult]


def render_with_compositor(
    job: Job, output: Path, resolver: LocalResolver, settings: Settings, context: RunContext
) -> RenderResult:
    return render(job, output, resolver=resolver, settings=settings, cancel=context.cancel)


def shot_job(shot: dict[str, Any], aspect: str, resolution: str) -> dict[str, Any]:
    """The composite job of one shot: its background (looped to length) and its title."""
    seconds = float(shot["durationSec"])
    loops = max(1, math.ceil(seconds / BACKGROUND_LOOP_SEC - 1e-9))
    clips = []
    for loop in range(loops):
        remaining = seconds - loop * BACKGROUND_LOOP_SEC
        clips.append(
            {
                "source": f"builtin:{shot['background']}",
                "inSec": 0,
                "outSec": round(min(remaining, BACKGROUND_LOOP_SEC), 3),
            }
        )
    return {
        "output": {"aspect": aspect, "durationSec": seconds, "resolution": resolution},
        "clips": clips,
        "textOverlays": [
            {
                "text": shot["title"],
                "startSec": 0,
                "endSec": round(max(seconds - TITLE_MARGIN_SEC, 0.5), 3),
                "position": "center",
                "style": "promo",
            }
        ],
    }


def preview_job(
    shot_files: list[Path], aspect: str, duration_sec: int, resolution: str
) -> dict[str, Any]:
    return {
        "output": {"aspect": aspect, "durationSec": duration_sec, "resolution": resolution},
        "clips": [{"source": str(path)} for path in shot_files],
        "transition": {"type": "cut"},
    }


class LocalProvider:
    name = "local"

    def __init__(
        self,
        settings: Settings,
        *,
        resolution: str = "full",
        render_shot: ShotRenderer = render_with_compositor,
    ) -> None:
        self.settings = settings
        self.resolution = resolution
        self.render_shot = render_shot

    def check(self) -> None:
        try:
            find_ffmpeg(self.settings.ffmpeg_path)
            for name in BACKGROUNDS:
                resolve_builtin(f"builtin:{name}", self.settings.assets_dir, "background")
        except (CompositorError, OSError) as error:
            raise GenerationUnavailable(
                f"local video generation is not available: {error}"
            ) from None

    def plan(self, request: GenerationRequest) -> SourcePlan:
        return plan_source(request)

    def run(self, job: GenerationJob, context: RunContext) -> GenerationOutput:
        work = Path(tempfile.mkdtemp(prefix="neariq-gen-", dir=self.settings.temp_root()))
        try:
            return self._run(job, context, work)
        except CompositorError as error:
            raise GenerationFailed(error.message, code=error.code) from error
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _run(self, job: GenerationJob, context: RunContext, work: Path) -> GenerationOutput:
        resolver = LocalResolver(work, self.settings.assets_dir)
        files: list[Path] = []
        shots: list[dict[str, Any]] = []
        for shot in job.shots:
            path = work / f"shot-{shot['index']}.mp4"
            spec = parse_job(shot_job(shot, job.aspect_ratio, self.resolution))
            self.render_shot(spec, path, resolver, self.settings, context)
            key = media_key(job.generation_id, path.name)
            context.storage.put(key, path, "video/mp4")
            files.append(path)
            shots.append({**shot, "status": "completed", "key": key})
        preview = parse_job(preview_job(files, job.aspect_ratio, job.duration_sec, self.resolution))
        result = self.render_shot(preview, work / "preview.mp4", resolver, self.settings, context)
        video_key = media_key(job.generation_id, "preview.mp4")
        thumbnail_key = media_key(job.generation_id, "thumbnail.jpg")
        context.storage.put(thumbnail_key, result.poster_path, "image/jpeg")
        context.storage.put(video_key, result.path, "video/mp4")
        return GenerationOutput(video_key=video_key, thumbnail_key=thumbnail_key, shots=shots)
