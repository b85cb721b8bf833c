"""CSRF for cookie-authenticated writes: the request must come from a dashboard origin. Pure.

Browsers send ``Origin`` on every cross-site POST/DELETE (and ``Referer`` when a privacy
setting drops ``Origin``), so a write whose origin is missing or foreign did not come from the
dashboard. SameSite=Lax already keeps the cookie off most cross-site POSTs; this check also
covers same-site attackers (another subdomain) and old browsers.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.errors import CsrfFailed
from api.settings import origin_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_origin(headers: Mapping[str, str]) -> str | None:
    """The origin a request claims: its ``Origin``, else its ``Referer``'s; None if neither.
    ``Origin: null`` (sandboxed frames, some redirects) counts as no origin."""
    origin = headers.get("origin")
    if origin and origin.strip().lower() != "null":
        return origin_of(origin)
    referer = headers.get("referer")
    if referer:
        return origin_of(referer)
    return None


def check_origin(method: str, headers: Mapping[str, str], allowed: frozenset[str]) -> None:
    """Raise ``csrf_failed`` for a write whose origin is missing or not a dashboard origin."""
    if method.upper() in SAFE_METHODS:
        return
    origin = request_origin(headers)
    if origin is None:
        raise CsrfFailed("cookie-authenticated writes need an Origin or Referer header")
    if origin not in allowed:
        raise CsrfFailed(f"requests from {origin} are not accepted with a dashboard session")
