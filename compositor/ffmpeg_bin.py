"""Find the FFmpeg binary once: the settings override, else the imageio-ffmpeg wheel's build."""

from __future__ import annotations

import functools
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from compositor.errors import RenderFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FFmpeg:
    path: str
    version: str


@functools.cache
def find_ffmpeg(override: str | None = None) -> FFmpeg:
    """The binary to run, and its version line (logged once per process)."""
    if override:
        path = override
    else:
        import imageio_ffmpeg  # the wheel carries a static build: no system package needed

        path = imageio_ffmpeg.get_ffmpeg_exe()
    if not Path(path).exists():
        raise RenderFailed(f"FFmpeg not found at {path}", code="ffmpeg_missing")
    try:
        out = subprocess.run(
            [path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderFailed(f"FFmpeg at {path} does not run: {exc}", code="ffmpeg_missing") from exc
    match = re.match(r"ffmpeg version (\S+)", out)
    version = match.group(1) if match else "unknown"
    log.info("using FFmpeg %s at %s", version, path)
    return FFmpeg(path=path, version=version)
