"""The ``none`` provider: video generation is switched off (503 before any credit moves)."""

from __future__ import annotations

from api.generation import (
    GenerationFailed,
    GenerationJob,
    GenerationOutput,
    GenerationRequest,
    GenerationUnavailable,
    RunContext,
    SourcePlan,
)


class NoneProvider:
    name = "none"

    def check(self) -> None:
        raise GenerationUnavailable("video generation is not configured for this environment")

    def plan(self, request: GenerationRequest) -> SourcePlan:
        raise GenerationUnavailable("video generation is not configured for this environment")

    def run(self, job: GenerationJob, context: RunContext) -> GenerationOutput:
        # A row left by another configuration: fail it (its credits are released).
        raise GenerationFailed("video generation is not configured", code="generation_unavailable")
