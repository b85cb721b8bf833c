"""Download ``http(s)`` sources before FFmpeg runs, within size, time and address limits.

FFmpeg never sees a URL: it reads the downloaded file with ``-protocol_whitelist file,pipe``.
Redirects are followed by hand (at most ``max_redirects``), each hop's scheme checked here and
its address checked where the socket opens (``addresses.GuardedBackend``).
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from compositor.errors import SourceUnavailable
from compositor.worker.addresses import AddressRefused, Network, guarded_client
from compositor.worker.cache import HashingWriter, SourceCache

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
REDIRECTS = (301, 302, 303, 307, 308)
# Kept on cached files for readability and for demuxers that look at names; anything else
# (including .m3u8) is stored without a suffix.
MEDIA_SUFFIXES = frozenset(
    (".mp4", ".m4v", ".mov", ".m4a", ".mkv", ".webm", ".avi", ".ts", ".flv", ".png", ".jpg",
     ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mp3", ".wav", ".ogg", ".oga", ".opus",
     ".flac", ".aac")
)  # fmt: skip


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout_sec: float = 5
    read_timeout_sec: float = 30
    total_timeout_sec: float = 600
    max_bytes: int = 2 << 30
    max_redirects: int = 3


def is_http_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in ("http", "https")


def safe_suffix(url: str) -> str:
    suffix = posixpath.splitext(urlsplit(url).path)[1].lower()
    return suffix if suffix in MEDIA_SUFFIXES else ""


class Fetcher:
    """Resolves a URL to a local file through the cache, downloading it at most once."""

    def __init__(
        self,
        cache: SourceCache,
        *,
        allow: tuple[Network, ...] = (),
        limits: FetchLimits = FetchLimits(),
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.cache = cache
        self.limits = limits
        self.on_bytes = on_bytes or (lambda _n: None)
        timeout = httpx.Timeout(
            connect=limits.connect_timeout_sec,
            read=limits.read_timeout_sec,
            write=limits.read_timeout_sec,
            pool=limits.connect_timeout_sec,
        )
        self.client = guarded_client(allow, timeout)

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, field: str) -> Path:
        blob, fetched = self.cache.get_or_fetch(
            url, lambda out: self._download(url, field, out), suffix=safe_suffix(url)
        )
        if fetched:
            log.info("fetched %s for %s (%d bytes)", _redact(url), field, blob.stat().st_size)
        return blob

    def _download(self, url: str, field: str, out: HashingWriter) -> None:
        deadline = time.monotonic() + self.limits.total_timeout_sec
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            if not is_http_url(current):
                raise SourceUnavailable(
                    f"{field}: redirected to a {urlsplit(current).scheme or 'relative'}: URL; "
                    "only http(s) sources are fetched",
                    field=field,
                    code="source_scheme_not_allowed",
                )
            location = self._get(current, field, out, deadline)
            if location is None:
                return
            current = urljoin(current, location)
        raise SourceUnavailable(
            f"{field}: more than {self.limits.max_redirects} redirects",
            field=field,
            code="source_too_many_redirects",
        )

    def _get(self, url: str, field: str, out: HashingWriter, deadline: float) -> str | None:
        """Write the body of ``url`` into ``out``, or return the redirect's location."""
        try:
            # identity: the size limit counts the bytes we store, and no decompression bomb
            with self.client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as reply:
                if reply.status_code in REDIRECTS and "location" in reply.headers:
                    return reply.headers["location"]
                if reply.status_code != 200:
                    raise SourceUnavailable(
                        f"{field}: HTTP {reply.status_code} from {_redact(url)}",
                        field=field,
                        code="source_not_found" if reply.status_code in (404, 410)
                        else "source_http_error",
                    )  # fmt: skip
                declared = reply.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.limits.max_bytes:
                    raise self._too_large(field)
                for chunk in reply.iter_raw(CHUNK):
                    if out.size + len(chunk) > self.limits.max_bytes:
                        raise self._too_large(field)
                    if time.monotonic() > deadline:
                        raise self._timeout(field)
                    out.write(chunk)
                    self.on_bytes(len(chunk))
                return None
        except AddressRefused as exc:
            raise AddressRefused(f"{field}: {exc.message}", field=field) from None
        except httpx.TimeoutException:
            raise self._timeout(field) from None
        except httpx.HTTPError as exc:
            raise SourceUnavailable(
                f"{field}: cannot fetch {_redact(url)}: {exc}", field=field
            ) from None

    def _too_large(self, field: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"{field}: source is larger than {self.limits.max_bytes} bytes",
            field=field,
            code="source_too_large",
        )

    def _timeout(self, field: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"{field}: source did not arrive in time", field=field, code="source_timeout"
        )


def _redact(url: str) -> str:
    """The URL without its query (signed source URLs carry their signature there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}" \
        f"{parts.path}"  # fmt: skip
