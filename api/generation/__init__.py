"""Video generation providers: one module each (local, http, none), one protocol.

A provider ``plan``s a source bundle synchronously (script and shots: fast and pure, so the
create response can carry them) and later ``run``s it in a background worker, storing the
shots, a preview video and a thumbnail. ``check`` raises ``GenerationUnavailable`` when the
provider cannot take work, which the create route turns into 503 before any credit moves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from api.errors import ServiceUnavailable


class GenerationUnavailable(ServiceUnavailable):
    """Raised when the provider is not configured or fails its health check."""

    code = "video_generation_unavailable"


class GenerationFailed(Exception):
    """Raised by ``run`` when a job cannot be produced; the row fails and credits are released."""

    def __init__(self, message: str, *, code: str = "generation_failed") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    duration_sec: int
    aspect_ratio: str
    style: str | None = None


@dataclass(frozen=True)
class ShotPlan:
    index: int
    title: str
    description: str
    start_ms: int
    duration_ms: int
    background: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "title": self.title,
            "description": self.description,
            "startSec": self.start_ms / 1000,
            "durationSec": self.duration_ms / 1000,
            "status": "processing",
            "background": self.background,
        }


@dataclass(frozen=True)
class SourcePlan:
    script: str
    shots: tuple[ShotPlan, ...]


@dataclass(frozen=True)
class GenerationJob:
    """What a worker hands a provider: the row as it was planned."""

    generation_id: str
    prompt: str
    duration_sec: int
    aspect_ratio: str
    script: str
    shots: list[dict[str, Any]]
    provider_job_id: str | None = None


@dataclass(frozen=True)
class GenerationOutput:
    video_key: str
    thumbnail_key: str
    shots: list[dict[str, Any]]


@dataclass
class RunContext:
    """Given to ``run``: where to store media, when to stop, how to remember a remote id."""

    storage: Any  # compositor.storage.Storage
    cancel: threading.Event = field(default_factory=threading.Event)
    remember_provider_job: Callable[[str], None] = lambda _job_id: None


class GenerationProvider(Protocol):
    name: str

    def check(self) -> None:
        """Raise GenerationUnavailable unless the provider can take a job now."""
        ...

    def plan(self, request: GenerationRequest) -> SourcePlan:
        """The script and shots for a request (fast, no I/O)."""
        ...

    def run(self, job: GenerationJob, context: RunContext) -> GenerationOutput:
        """Produce and store the media (blocking; in a worker thread). Raise GenerationFailed."""
        ...


def media_key(generation_id: str, name: str) -> str:
    return f"generations/{generation_id}/{name}"
