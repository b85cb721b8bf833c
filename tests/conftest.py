"""Shared fixtures: generated media (made once per session) and fast test settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compositor.job import parse_job
from compositor.render import RenderResult, render
from compositor.settings import Settings
from compositor.sources import LocalResolver
from tests.mediatools import colour_clip, ffmpeg


@dataclass(frozen=True)
class Media:
    root: Path

    def __getattr__(self, name: str) -> Path:
        return self.root / MEDIA_FILES[name]


MEDIA_FILES = {
    "red": "red.mp4",
    "blue": "blue.mp4",
    "green": "green.mp4",
    "red_long": "red_long.mp4",
    "blue_long": "blue_long.mp4",
    "testsrc": "testsrc.mp4",
    "silent": "silent.mp4",
    "rotated": "rotated.mp4",
    "vfr": "vfr.mp4",
    "fps60": "fps60.mp4",
    "tenbit": "tenbit.mp4",
    "odd": "odd.mkv",
    "still_png": "still.png",
    "still_jpg": "still.jpg",
    "audio_only": "audio_only.m4a",
    "text_as_mp4": "text.mp4",
    "empty": "empty.mp4",
    "truncated": "truncated.mp4",
    "ready": "ready_1080p.mp4",
    "ready_b": "ready_1080p_b.mp4",
    "wm_png": "watermark.png",
}


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("media")
    colour_clip(root / "red.mp4", "red", 2, tone=440)
    colour_clip(root / "blue.mp4", "blue", 2, tone=880)
    colour_clip(root / "green.mp4", "green", 2, tone=660)
    colour_clip(root / "red_long.mp4", "red", 9, tone=440)
    colour_clip(root / "blue_long.mp4", "blue", 9, tone=880)
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3", "-f", "lavfi",
        "-i", "sine=f=1000:r=44100:d=3", "-c:v", "libx264", "-preset", "ultrafast",
        "-c:a", "aac", "-ac", "1", str(root / "testsrc.mp4"),
    )  # fmt: skip
    colour_clip(root / "silent.mp4", "yellow", 2, tone=None)
    # Left half red, right half blue, flagged "rotate 90° counter-clockwise for display".
    landscape = root / "landscape.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=red:s=160x180:r=30:d=2", "-f", "lavfi",
        "-i", "color=blue:s=160x180:r=30:d=2", "-f", "lavfi", "-i", "sine=d=2",
        "-filter_complex", "[0:v][1:v]hstack", "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(landscape),
    )  # fmt: skip
    ffmpeg("-display_rotation", "90", "-i", str(landscape), "-c", "copy", str(root / "rotated.mp4"))
    # Variable frame rate: 1 s at 12 fps, then 1 s at 50 fps, timestamps kept as they are.
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x180:r=12:d=1", "-f", "lavfi",
        "-i", "testsrc2=s=320x180:r=50:d=1", "-filter_complex",
        "[0:v]settb=1/600[a];[1:v]settb=1/600[b];[a][b]concat=n=2:v=1[v]", "-map", "[v]",
        "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        str(root / "vfr.mp4"),
    )  # fmt: skip
    colour_clip(root / "fps60.mp4", "purple", 2, rate=60)
    colour_clip(root / "tenbit.mp4", "orange", 2, extra=("-pix_fmt", "yuv420p10le"))
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=641x479:r=30:d=2", "-c:v", "libx264", "-preset",
        "ultrafast", "-pix_fmt", "yuv444p", str(root / "odd.mkv"),
    )  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "color=green:s=400x300", "-frames:v", "1", str(root / "still.png"))
    ffmpeg("-f", "lavfi", "-i", "color=white:s=300x400", "-frames:v", "1", str(root / "still.jpg"))
    ffmpeg("-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", str(root / "audio_only.m4a"))
    (root / "text.mp4").write_text("this is not a video\n")
    (root / "empty.mp4").write_bytes(b"")
    whole = colour_clip(root / "whole.mp4", "gray", 4, extra=("-movflags", "+faststart"))
    (root / "truncated.mp4").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for name, colour in (("ready_1080p.mp4", "navy"), ("ready_1080p_b.mp4", "teal")):
        ffmpeg(
            "-f", "lavfi", "-i", f"color={colour}:s=960x540:r=30:d=3", "-f", "lavfi",
            "-i", "sine=r=48000:d=3", "-c:v", "libx264", "-preset", "ultrafast",
            "-x264-params", "8x8dct=1", "-profile:v", "high", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ar", "48000", "-ac", "2", "-shortest", str(root / name),
        )  # fmt: skip
    ffmpeg(
        "-f", "lavfi", "-i", "color=white@1.0:s=200x100,format=rgba", "-frames:v", "1",
        str(root / "watermark.png"),
    )  # fmt: skip
    return Media(root)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Fast settings for tests: ultrafast x264 (still High profile), default everything else."""
    return Settings(preset="ultrafast")


def make_job(**fields: Any) -> Any:
    """A preview-size job with the given fields (camelCase, as on the wire)."""
    data: dict[str, Any] = {"output": {"resolution": "preview", "durationSec": 5}}
    for key, value in fields.items():
        if key == "output":
            data["output"] = {**data["output"], **value}
        else:
            data[key] = value
    return parse_job(json.loads(json.dumps(data)))


@pytest.fixture
def render_job(tmp_path: Path, settings: Settings, media: Media):
    """Render a job dict (camelCase) into tmp_path; sources are paths."""

    def run(name: str = "out.mp4", **fields: Any) -> RenderResult:
        job = make_job(**fields)
        return render(
            job,
            tmp_path / name,
            resolver=LocalResolver(media.root, settings.assets_dir),
            settings=settings,
        )

    return run
