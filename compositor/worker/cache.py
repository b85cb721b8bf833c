"""Content-addressed cache of downloaded sources, shared by every job (and every process) on
one machine, so a source used by many jobs is fetched once.

``urls/<sha256(url)>`` names a blob; ``blobs/<sha256(content)><suffix>`` holds the bytes. Two
URLs with the same content share one blob. A per-URL ``flock`` makes concurrent jobs (threads
or processes) wait for one download instead of starting their own. Entries are fresh for a
TTL after their download; ``prune`` removes stale entries and blobs nothing names.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

# A stale entry's blob may still be read by a render that found it just before it went stale.
PRUNE_GRACE_SEC = 2 * 3600


class HashingWriter:
    """Writes to a file while hashing and counting what went through."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.sha256.update(data)
        self.size += len(data)


Download = Callable[[HashingWriter], None]


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class SourceCache:
    def __init__(self, root: Path, *, ttl_sec: int) -> None:
        self.root = root
        self.ttl_sec = ttl_sec
        for folder in ("urls", "blobs", "tmp", "locks"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def lookup(self, url: str, *, now: float | None = None) -> Path | None:
        """The cached blob for ``url`` if it is fresh, else None."""
        entry = self.root / "urls" / url_key(url)
        try:
            age = (now if now is not None else time.time()) - entry.stat().st_mtime
            blob = self.root / "blobs" / entry.read_text().strip()
        except OSError:
            return None
        if age > self.ttl_sec or not blob.is_file():
            return None
        return blob

    def get_or_fetch(self, url: str, download: Download, *, suffix: str = "") -> tuple[Path, bool]:
        """(blob, fetched): the cached blob, or one written by ``download`` under the URL's lock."""
        key = url_key(url)
        with self._locked(key):
            blob = self.lookup(url)
            if blob is not None:
                return blob, False
            handle, name = tempfile.mkstemp(dir=self.root / "tmp", suffix=".partial")
            partial = Path(name)
            try:
                with os.fdopen(handle, "wb") as file:
                    writer = HashingWriter(file)
                    download(writer)
                blob = self.root / "blobs" / f"{writer.sha256.hexdigest()}{suffix}"
                os.replace(partial, blob)  # same content, same name: replacing is harmless
                self._write_entry(key, blob.name)
                return blob, True
            finally:
                partial.unlink(missing_ok=True)

    def _write_entry(self, key: str, blob_name: str) -> None:
        entry = self.root / "urls" / key
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(blob_name)
        os.replace(tmp, entry)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        with open(self.root / "locks" / key, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def prune(self, *, now: float | None = None) -> int:
        """Remove entries stale for longer than the grace, then blobs no entry names."""
        now = now if now is not None else time.time()
        removed = 0
        named: set[str] = set()
        for entry in (self.root / "urls").iterdir():
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > self.ttl_sec + PRUNE_GRACE_SEC:
                    entry.unlink()
                    (self.root / "locks" / entry.name).unlink(missing_ok=True)
                    removed += 1
                else:
                    named.add(entry.read_text().strip())
        for blob in (self.root / "blobs").iterdir():
            with contextlib.suppress(OSError):
                if blob.name not in named and now - blob.stat().st_mtime > PRUNE_GRACE_SEC:
                    blob.unlink()
                    removed += 1
        for partial in (self.root / "tmp").iterdir():  # left by a process that died mid-download
            with contextlib.suppress(OSError):
                if now - partial.stat().st_mtime > PRUNE_GRACE_SEC:
                    partial.unlink()
        return removed
