"""Links to finished files: ``<base>/composites/<name>?exp=<unix>&sig=<hex>``.

Signed with ``compositor.signing.sign_link`` over ``/<name>`` and the expiry (the scheme
``LocalStorage`` uses), whatever the storage: in S3 mode the route checks the link, then
redirects to a short presigned URL, so clients always get links of this service.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode

from compositor.signing import sign_link, verify_link

# Names are generated (records.new_output_name): 32 hex digits and the kind of file.
NAME = re.compile(r"^([0-9a-f]{32})\.(mp4|jpg)$")
CONTENT_TYPES = {"mp4": "video/mp4", "jpg": "image/jpeg"}


def parse_name(name: str) -> tuple[str, str] | None:
    """('<output name>', 'mp4' | 'jpg') for a name we could have generated, else None."""
    match = NAME.match(name)
    return (match.group(1), match.group(2)) if match else None


class Links:
    def __init__(self, secrets: Sequence[str], *, ttl_sec: int, public: bool) -> None:
        self.secrets = tuple(secrets)
        self.ttl_sec = ttl_sec
        self.public = public

    def url(self, base_url: str, name: str, *, now: float) -> str:
        url = f"{base_url.rstrip('/')}/composites/{name}"
        if self.public:
            return url
        expires = int(now + self.ttl_sec)
        query = urlencode({"exp": expires, "sig": sign_link(self.secrets[0], f"/{name}", expires)})
        return f"{url}?{query}"

    def verify(self, name: str, expires: str | None, signature: str | None, *, now: float) -> None:
        """Raise signing.BadSignature unless the link is signed and unexpired (or public)."""
        if not self.public:
            verify_link(self.secrets, f"/{name}", expires, signature, now=now)
