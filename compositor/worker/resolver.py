"""The worker's source resolver: ``http(s)`` URLs (downloaded) and ``builtin:`` assets only.

Local paths are refused: a client must never name a file on the worker's disk. A downloaded
file is opened once with the engine's demuxer whitelist before the engine probes it, because
the probe (PyAV) would otherwise let a playlist demuxer (HLS, DASH, concat) open the files and
URLs named inside the playlist while detecting it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import av.error

from compositor.errors import SourceUnavailable
from compositor.formats import ALLOWED_FORMATS
from compositor.job import Job
from compositor.sources import resolve_builtin
from compositor.worker.fetch import Fetcher, is_http_url

FORMAT_WHITELIST = ",".join(sorted(ALLOWED_FORMATS))


def job_sources(job: Job) -> Iterator[tuple[str, str]]:
    """(field, source) of every source a job names."""
    for i, clip in enumerate(job.clips):
        yield f"clips[{i}].source", clip.source
    if job.watermark is not None and job.watermark.image is not None:
        yield "watermark.image", job.watermark.image
    if job.audio.music is not None:
        yield "audio.music.source", job.audio.music.source
    narration = job.audio.narration
    if narration is not None and hasattr(narration, "source"):
        yield "audio.narration.source", narration.source


def check_source_scheme(source: str, field: str) -> None:
    """Refuse, before anything is queued, a source the worker would never fetch."""
    if source.startswith("builtin:") or is_http_url(source):
        return
    raise SourceUnavailable(
        f"{field}: the worker takes http(s) URLs and builtin: assets, not local paths",
        field=field,
        code="source_scheme_not_allowed",
    )


def refuse_playlists(path: Path, field: str) -> None:
    """Open ``path`` with only the engine's demuxers allowed (no playlist is ever parsed).

    FFmpeg detects the format first and checks the whitelist before the demuxer reads
    anything past the detection bytes, so a playlist is refused unread.
    """
    if path.stat().st_size == 0:
        raise SourceUnavailable(f"{field}: file is empty", field=field, code="source_empty")
    try:
        with av.open(
            str(path),
            options={"format_whitelist": FORMAT_WHITELIST, "protocol_whitelist": "file"},
        ):
            return
    except av.error.InvalidDataError:
        message, code = "not a readable media file", "source_unreadable"
    except (av.error.FFmpegError, ValueError, OSError):
        message, code = (
            "a format the worker does not read (playlists are refused)",
            ("source_unsupported"),
        )
    raise SourceUnavailable(f"{field}: {message}", field=field, code=code)


class WorkerResolver:
    def __init__(self, fetcher: Fetcher, assets_dir: Path) -> None:
        self.fetcher = fetcher
        self.assets_dir = assets_dir

    def resolve(self, source: str, field: str) -> Path:
        check_source_scheme(source, field)
        if source.startswith("builtin:"):
            return resolve_builtin(source, self.assets_dir, field)
        path = self.fetcher.fetch(source, field)
        refuse_playlists(path, field)
        return path
