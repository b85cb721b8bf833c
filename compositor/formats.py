"""What FFmpeg and PyAV may open: local files, read by media demuxers only."""

from __future__ import annotations

# Demuxers a source may be read with. Playlists (hls, concat, ...) are not on it: they would make
# FFmpeg open further files named inside the source.
ALLOWED_FORMATS = frozenset(
    [
        "mov",
        "mp4",
        "m4a",
        "3gp",
        "matroska",
        "webm",
        "avi",
        "mpegts",
        "flv",
        "image2",
        "png_pipe",
        "jpeg_pipe",
        "webp_pipe",
        "bmp_pipe",
        "gif",
        "tiff_pipe",
        "wav",
        "mp3",
        "aac",
        "ogg",
        "flac",
    ]
)


PROTOCOLS = "file,pipe"  # FFmpeg opens local files only: sources are fetched before it runs
FORMAT_WHITELIST = ",".join(sorted(ALLOWED_FORMATS))
