"""The runner and the render around it: progress, cancellation, timeout, failure detail."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from compositor.errors import RenderCancelled, RenderFailed, RenderTimeout
from compositor.ffmpeg_bin import find_ffmpeg
from compositor.job import parse_job
from compositor.render import render
from compositor.runner import run_ffmpeg
from compositor.settings import Settings
from compositor.sources import LocalResolver

LONG_JOB = {
    "output": {"durationSec": 30, "resolution": "full"},
    "clips": [{"source": "red_long.mp4"}, {"source": "blue_long.mp4"}] * 2,
    "transition": {"type": "fade", "durationSec": 0.5},
}


def test_progress_rises_monotonically_to_one(render_job, media):
    seen: list[float] = []
    from tests.conftest import make_job

    job = make_job(clips=[{"source": media.red_long.name}], output={"durationSec": 8})
    # Slow enough to report more than once however fast the machine (reports come every 0.25 s).
    settings = Settings(preset="medium")
    resolver = LocalResolver(media.root, settings.assets_dir)
    render(job, media.root / "progress.mp4", resolver=resolver, settings=settings,
           on_progress=seen.append)  # fmt: skip
    assert len(seen) >= 3
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 1


def test_cancel_kills_ffmpeg_and_leaves_no_file(tmp_path, media):
    cancel = threading.Event()
    settings = Settings(preset="medium")  # slow enough to be caught mid-render
    stages: list[str] = []

    def on_progress(fraction: float) -> None:
        if fraction > 0.02:
            cancel.set()

    with pytest.raises(RenderCancelled):
        render(parse_job(LONG_JOB), tmp_path / "out.mp4", settings=settings, cancel=cancel,
               resolver=LocalResolver(media.root, settings.assets_dir), on_progress=on_progress,
               on_stage=stages.append)  # fmt: skip
    assert "rendering" in stages
    assert list(tmp_path.iterdir()) == []  # no output, no poster, no working folder


def test_timeout_kills_ffmpeg_and_leaves_no_file(tmp_path, media):
    settings = Settings(preset="medium", render_timeout_sec=0.5)
    with pytest.raises(RenderTimeout) as caught:
        render(parse_job(LONG_JOB), tmp_path / "out.mp4", settings=settings,
               resolver=LocalResolver(media.root, settings.assets_dir))  # fmt: skip
    assert caught.value.code == "render_timeout"
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failure_carries_the_tail_of_its_stderr(tmp_path):
    with pytest.raises(RenderFailed) as caught:
        run_ffmpeg([find_ffmpeg().path, "-f", "lavfi", "-i", "nosuchsource", "out.mp4"],
                   cwd=tmp_path)  # fmt: skip
    assert "nosuchsource" in caught.value.stderr_tail
    assert "exited with" in caught.value.message


@pytest.mark.parametrize("size", ["4096x4096", "7680x4320"])
def test_very_large_sources_render(render_job, media, size):
    from tests.mediatools import colour_clip, video_info

    source = colour_clip(media.root / f"big-{size}.mp4", "red", 0.5, size=size)
    result = render_job(clips=[{"source": source.name}], output={"durationSec": 1})
    assert (video_info(result.path)["width"], video_info(result.path)["height"]) == (960, 540)


def test_a_source_beyond_the_pixel_limit_is_refused_before_rendering(tmp_path, media):
    from compositor.errors import SourceUnavailable

    # The default limit is 8192x4320; a lower one shows the check without a 16K fixture.
    settings = Settings(preset="ultrafast", max_source_pixels=160 * 90)
    job = parse_job({"clips": [{"source": media.red.name}]})
    with pytest.raises(SourceUnavailable) as caught:
        render(job, tmp_path / "o.mp4", settings=settings,
               resolver=LocalResolver(media.root, settings.assets_dir))  # fmt: skip
    assert (caught.value.code, caught.value.field) == ("source_too_large", "clips[0].source")
    assert not Path(tmp_path / "o.mp4").exists()


def test_an_exception_in_the_waiting_thread_kills_ffmpeg(tmp_path, monkeypatch):
    """A queue's time limit (or Ctrl-C) arrives as an exception raised into the waiting thread:
    FFmpeg, in its own process group, must die with it rather than render on alone."""
    import ctypes
    import os
    import subprocess
    import time

    import compositor.runner as runner_module

    class TimeLimit(Exception):
        pass

    pids: list[int] = []
    started = threading.Event()
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        pids.append(process.pid)
        started.set()
        return process

    monkeypatch.setattr(runner_module.subprocess, "Popen", recording_popen)
    waiting_thread = threading.get_ident()

    def raise_time_limit() -> None:
        started.wait(10)
        time.sleep(0.5)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(waiting_thread), ctypes.py_object(TimeLimit)
        )

    threading.Thread(target=raise_time_limit, daemon=True).start()
    with pytest.raises(TimeLimit):
        run_ffmpeg([find_ffmpeg().path, "-f", "lavfi", "-i", "testsrc2=d=60:s=1280x720",
                    "-c:v", "libx264", "-preset", "medium", "-f", "null", "-"],
                   cwd=tmp_path)  # fmt: skip
    assert pids
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)  # gone (and reaped), not rendering on
