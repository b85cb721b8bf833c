"""Files in a local folder; links signed with HMAC and served by the owning service."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from compositor.signing import sign_link, verify_link
from compositor.storage import StoredObject, check_key


class LocalStorage:
    def __init__(self, root: Path, *, base_url: str, secrets: Sequence[str]) -> None:
        """``base_url`` is where the owning service serves keys, e.g. ``http://h/composites``."""
        if not secrets or not secrets[0]:
            raise ValueError("local storage needs a link-signing secret")
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.secrets = tuple(secrets)
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: Path, content_type: str) -> None:
        destination = self.path(key)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.partial")
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def link_path(self, key: str) -> str:
        """The URL path that is signed (the key as it appears after base_url)."""
        return "/" + quote(check_key(key))

    def url(self, key: str, *, expires_in: int, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + expires_in)
        signature = sign_link(self.secrets[0], self.link_path(key), expires)
        query = urlencode({"exp": expires, "sig": signature})
        return f"{self.base_url}{self.link_path(key)}?{query}"

    def verify(self, key: str, expires: str | None, signature: str | None, *, now: float) -> None:
        """Raise signing.BadSignature unless the link for ``key`` is signed and unexpired."""
        verify_link(self.secrets, self.link_path(key), expires, signature, now=now)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                stat = path.stat()
                yield StoredObject(key=key, size=stat.st_size, modified=stat.st_mtime)

    def check(self) -> None:
        probe = self.root / f".ready-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
