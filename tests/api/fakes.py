"""Test doubles of the suite (real classes, used where a test is not about generation)."""

from __future__ import annotations

import threading
from pathlib import Path

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
from api.generation.script import plan_source


class FakeProvider:
    """Plans with the real template writer; ``run`` stores two tiny files or fails on demand."""

    name = "fake"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.healthy = True
        self.fail_with: str | None = None
        self.gate: threading.Event | None = None  # run waits for it (or for cancel)
        self.started = threading.Event()
        self.runs: list[str] = []
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        if not self.healthy:
            raise GenerationUnavailable("the fake generation provider is down")

    def plan(self, request: GenerationRequest) -> SourcePlan:
        return plan_source(request)

    def run(self, job: GenerationJob, context: RunContext) -> GenerationOutput:
        self.runs.append(job.generation_id)
        self.started.set()
        if self.gate is not None:
            while not self.gate.wait(0.01):
                if context.cancel.is_set():
                    raise GenerationFailed("cancelled", code="render_cancelled")
        if self.fail_with:
            raise GenerationFailed(self.fail_with, code="fake_failure")
        self.workdir.mkdir(parents=True, exist_ok=True)
        video = self.workdir / f"{job.generation_id}.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + job.generation_id.encode() * 100)
        thumb = self.workdir / f"{job.generation_id}.jpg"
        thumb.write_bytes(b"\xff\xd8\xff\xe0" + b"thumb")
        video_key = media_key(job.generation_id, "preview.mp4")
        thumbnail_key = media_key(job.generation_id, "thumbnail.jpg")
        context.storage.put(video_key, video, "video/mp4")
        context.storage.put(thumbnail_key, thumb, "image/jpeg")
        shots = [{**shot, "status": "completed"} for shot in job.shots]
        return GenerationOutput(video_key, thumbnail_key, shots)
