"""HMAC signing of compositor requests and of expiring file links (CONTRACT §6). Pure.

Requests: ``X-Compositor-Signature: v1=<hex HMAC-SHA256(secret, ts.METHOD.path?query.body)>``
with ``X-Compositor-Timestamp: <unix seconds>``. Several secrets may be configured (rotation):
sign with the first, accept any. Links: ``?exp=<unix>&sig=<hex>`` over ``path`` and ``exp``.
The API imports this module for its client side, so both ends share one implementation.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

TIMESTAMP_HEADER = "X-Compositor-Timestamp"
SIGNATURE_HEADER = "X-Compositor-Signature"
MAX_SKEW_SEC = 300


class BadSignature(Exception):
    """Raised when a request or link signature is missing, stale or does not match."""

    code = "bad_signature"


def _mac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def request_message(timestamp: str, method: str, path_with_query: str, body: bytes) -> bytes:
    return f"{timestamp}.{method.upper()}.{path_with_query}.".encode() + body


def sign_request(
    secret: str, timestamp: int, method: str, path_with_query: str, body: bytes
) -> dict[str, str]:
    """The two headers to send with a request."""
    message = request_message(str(timestamp), method, path_with_query, body)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: "v1=" + _mac(secret, message)}


def verify_request(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    method: str,
    path_with_query: str,
    body: bytes,
    *,
    now: float,
    max_skew_sec: int = MAX_SKEW_SEC,
) -> None:
    """Raise BadSignature unless one of ``secrets`` signed this exact request recently."""
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or not signature.startswith("v1="):
        raise BadSignature("missing or malformed signature headers")
    if abs(now - int(timestamp)) > max_skew_sec:
        raise BadSignature("signature timestamp is more than 300 s off")
    message = request_message(timestamp, method, path_with_query, body)
    given = signature.removeprefix("v1=")
    # compare_digest against every secret (no early exit on the first match either)
    matches = [hmac.compare_digest(_mac(secret, message), given) for secret in secrets if secret]
    if not any(matches):
        raise BadSignature("signature does not match")


def link_message(path: str, expires: int) -> bytes:
    return f"{path}\n{expires}".encode()


def sign_link(secret: str, path: str, expires: int) -> str:
    """Signature for a link to ``path`` valid until unix time ``expires``."""
    return _mac(secret, link_message(path, expires))


def verify_link(
    secrets: Sequence[str], path: str, expires: str | None, signature: str | None, *, now: float
) -> None:
    if not expires or not expires.isdigit() or not signature:
        raise BadSignature("link is not signed")
    if int(expires) < now:
        raise BadSignature("link has expired")
    message = link_message(path, int(expires))
    matches = [hmac.compare_digest(_mac(s, message), signature) for s in secrets if s]
    if not any(matches):
        raise BadSignature("link signature does not match")
