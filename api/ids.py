"""Identifiers and secrets: opaque prefixed ids, request ids and API keys."""

from __future__ import annotations

import re
import secrets
import string

URL_SAFE = string.ascii_letters + string.digits + "-_"
# Request ids a client may choose and we echo back: short, and nothing a log or header could
# misread (no spaces, no control characters).
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def random_token(length: int, alphabet: str = URL_SAFE) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """``vg_`` + 24 base62 characters (~143 bits): opaque and unguessable."""
    return f"{prefix}_{random_token(length, string.ascii_letters + string.digits)}"


def new_request_id() -> str:
    return new_id("req", 20)


def request_id_from(client_value: str | None) -> str:
    """Echo the client's X-Request-Id when it is safe, else make one (CONTRACT §2)."""
    if client_value and SAFE_REQUEST_ID.match(client_value):
        return client_value
    return new_request_id()
