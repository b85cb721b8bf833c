"""One error hierarchy for the API, and the one table that maps it to HTTP statuses.

Every error carries a snake_case ``code`` (CONTRACT §2), a human ``message`` and the JSON path
of the failing ``field`` (or None). Routes raise; one exception handler renders the body.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base class of every error the API answers on purpose."""

    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.extra = extra or {}
        self.headers: dict[str, str] = {}

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidRequest(ApiError):
    """Raised when the body, query or a header fails validation (code names the field kind)."""

    code = "invalid_field"


class MissingActiveBusiness(ApiError):
    """Raised when the key's business is inactive or gone."""

    code = "missing_active_business"


class Unauthorized(ApiError):
    """Raised when no, an unknown or a revoked key (or session) comes with the request."""

    code = "unauthorized"


class BadSignature(ApiError):
    """Raised when a signed link is unsigned, expired or forged."""

    code = "bad_signature"


class Forbidden(ApiError):
    """Raised when the caller is known but not allowed (scope, plan, permission, CSRF...)."""

    code = "permission_denied"


class CsrfFailed(Forbidden):
    """Raised when a cookie-authenticated POST/DELETE comes without an allowed Origin/Referer."""

    code = "csrf_failed"


class OverlayNotAllowed(Forbidden):
    """Raised when a composite asks for a voice, music or text overlay its plan does not allow."""

    code = "overlay_not_allowed"


class NotFound(ApiError):
    """Raised when a thing does not exist or belongs to another business (never say which)."""

    code = "not_found"


class Conflict(ApiError):
    """Raised when the request collides with state: not ready, idempotency key reused."""

    code = "idempotency_conflict"


class NotReady(Conflict):
    """Raised when a video is asked for something it can only do once completed."""

    code = "not_ready"


class MethodNotAllowed(ApiError):
    """Raised when the path exists but not with this method."""

    code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    """Raised when a JSON body is over the limit (64 KiB)."""

    code = "payload_too_large"


class CreditLimitExceeded(ApiError):
    """Raised when the requested credits do not fit in this month's headroom."""

    code = "credit_limit_exceeded"


class ServiceUnavailable(ApiError):
    """Raised when a dependency (generation, narration, compositor) is not available."""

    code = "video_generation_unavailable"


class NarrationUnavailable(ServiceUnavailable):
    """Raised when the narration engine asked for (premium) cannot speak now."""

    code = "narration_unavailable"


class CompositorUnavailable(ServiceUnavailable):
    """Raised when the compositor worker is not configured, down, full or draining."""

    code = "compositor_unavailable"


# The one table: error class -> HTTP status. The most specific class listed wins.
STATUS_BY_ERROR: dict[type[ApiError], int] = {
    InvalidRequest: 400,
    MissingActiveBusiness: 400,
    Unauthorized: 401,
    BadSignature: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    CreditLimitExceeded: 429,
    ServiceUnavailable: 503,
    ApiError: 500,
}


def status_for(error: ApiError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500
