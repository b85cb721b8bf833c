"""Turn a job's ``source`` strings into local files before FFmpeg runs.

The CLI resolves local paths (relative to the job file) and ``builtin:`` assets; the worker
plugs in a resolver that also downloads ``http(s)`` URLs. FFmpeg itself never sees a URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from compositor.errors import SourceUnavailable

BUILTIN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
BUILTIN_FOLDERS = ("watermark", "music", "media")
BUILTIN_SUFFIXES = (".png", ".jpg", ".m4a", ".mp3", ".wav", ".ogg", ".flac", ".mp4")


class SourceResolver(Protocol):
    def resolve(self, source: str, field: str) -> Path:
        """A local file for ``source``; raise SourceUnavailable naming ``field`` otherwise."""
        ...


def resolve_builtin(source: str, assets_dir: Path, field: str) -> Path:
    """``builtin:<name>`` -> the asset of that name shipped in assets/."""
    name = source.removeprefix("builtin:")
    if not BUILTIN_NAME.match(name):
        raise SourceUnavailable(f"{field}: {source!r} is not a builtin name", field=field,
                                code="source_not_found")  # fmt: skip
    for folder in BUILTIN_FOLDERS:
        for suffix in BUILTIN_SUFFIXES:
            candidate = assets_dir / folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    raise SourceUnavailable(f"{field}: no builtin asset named {name!r}", field=field,
                            code="source_not_found")  # fmt: skip


class LocalResolver:
    """For the CLI: local paths (relative to ``base_dir``) and ``builtin:`` assets."""

    def __init__(self, base_dir: Path, assets_dir: Path) -> None:
        self.base_dir = base_dir
        self.assets_dir = assets_dir

    def resolve(self, source: str, field: str) -> Path:
        if source.startswith("builtin:"):
            return resolve_builtin(source, self.assets_dir, field)
        scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]+):", source)
        if scheme and scheme.group(1).lower() != "file":
            raise SourceUnavailable(
                f"{field}: {scheme.group(1)}: sources are taken by the worker; "
                "the CLI renders local files",
                field=field,
                code="source_scheme_not_allowed",
            )
        path = Path(source.removeprefix("file://").removeprefix("file:")).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        if not path.is_file():
            raise SourceUnavailable(f"{field}: {source}: file not found", field=field,
                                    code="source_not_found")  # fmt: skip
        return path
