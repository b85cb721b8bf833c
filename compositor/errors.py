"""One error hierarchy for the compositor.

Every error carries a snake_case ``code``, a human ``message`` and the JSON path of the failing
``field`` (or None). The CLI maps them to exit codes and the worker to HTTP statuses, each in one
table, so no caller inspects messages.
"""

from __future__ import annotations

from typing import Any


class CompositorError(Exception):
    """Base class of every error the compositor raises on purpose."""

    code = "compositor_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidJob(CompositorError):
    """Raised when a job fails validation before anything runs."""

    code = "invalid_field"


class SourceUnavailable(CompositorError):
    """Raised when a source cannot be fetched, opened or decoded, or is not what it claims."""

    code = "source_unavailable"


class RenderFailed(CompositorError):
    """Raised when FFmpeg exits non-zero, times out or is cancelled."""

    code = "render_failed"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message, field=field, code=code)
        self.stderr_tail = stderr_tail


class RenderCancelled(RenderFailed):
    """Raised when a render is cancelled by its caller (FFmpeg killed, no file left)."""

    code = "render_cancelled"


class RenderTimeout(RenderFailed):
    """Raised when FFmpeg runs past the render timeout (FFmpeg killed, no file left)."""

    code = "render_timeout"


class DurationOutOfTolerance(CompositorError):
    """Raised when the written file's duration misses the slot by more than the tolerance."""

    code = "duration_out_of_tolerance"


class NarrationError(CompositorError):
    """Raised when a narration engine cannot produce speech (missing, unreachable, failing)."""

    code = "narration_unavailable"


class NarrationTooLong(InvalidJob):
    """Raised when the narration cannot end inside the slot after ``voiceStartSec``."""

    code = "narration_too_long"

    def __init__(self, message: str, *, overflow_sec: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.overflow_sec = overflow_sec

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "overflowSec": self.overflow_sec}
