"""The one module that starts FFmpeg.

It adds ``-progress pipe:1`` and turns FFmpeg's key=value progress into a 0-1 callback, keeps
the tail of stderr for error messages (and the loudness summary), enforces a timeout, and on
timeout or cancellation kills FFmpeg's whole process group. Callers own the files.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from compositor.errors import RenderCancelled, RenderFailed, RenderTimeout

ProgressCallback = Callable[[float], None]
STDERR_LINES = 300


@dataclass(frozen=True)
class RunResult:
    seconds: float
    stderr_tail: str


@functools.cache
def fontconfig_file(fonts_dir: Path) -> Path:
    """A fontconfig file that knows only our fonts, so text renders alike on every machine."""
    cache_dir = Path(tempfile.gettempdir()) / f"neariq-fontconfig-{os.getuid()}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    config = cache_dir / "fonts.conf"
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>\n  <dir>{_xml(str(fonts_dir.resolve()))}</dir>\n"
        f"  <cachedir>{_xml(str(cache_dir / 'cache'))}</cachedir>\n</fontconfig>\n"
    )
    if not config.exists() or config.read_text() != text:
        tmp = config.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, config)
    return config


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def run_ffmpeg(
    argv: Sequence[str],
    *,
    cwd: Path,
    fonts_dir: Path | None = None,
    expected_sec: float | None = None,
    on_progress: ProgressCallback | None = None,
    timeout_sec: float = 1800,
    cancel: threading.Event | None = None,
    nice: int = 0,
) -> RunResult:
    """Run FFmpeg to completion; raise RenderFailed (with stderr's tail) otherwise."""
    # Progress four times a second (FFmpeg's default is two): a render of a few seconds still
    # moves the bar and the worker's `progress` more than once.
    command = [argv[0], "-progress", "pipe:1", "-stats_period", "0.25", "-nostats", *argv[1:]]
    env = dict(os.environ)
    if fonts_dir is not None:
        env["FONTCONFIG_FILE"] = str(fontconfig_file(fonts_dir))
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        process_group=0,  # its own group: a kill takes any children with it
    )
    if nice:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, nice)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
    readers = [
        threading.Thread(target=_read_stderr, args=(process, tail), daemon=True),
        threading.Thread(
            target=_read_progress, args=(process, expected_sec, on_progress), daemon=True
        ),
    ]
    for reader in readers:
        reader.start()

    reason: str | None = None
    deadline = started + timeout_sec
    try:
        while process.poll() is None:
            if cancel is not None and cancel.is_set():
                reason = "cancelled"
            elif time.monotonic() > deadline:
                reason = "timeout"
            if reason:
                _kill_group(process)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.1)
    except BaseException:
        # An exception raised into this thread (Ctrl-C, a queue's time limit) must not leave
        # FFmpeg rendering on its own: it runs in its own process group, nothing else kills it.
        _kill_group(process)
        process.wait()
        raise
    process.wait()
    for reader in readers:
        reader.join(timeout=5)
    seconds = time.monotonic() - started
    stderr_tail = "\n".join(tail)
    if reason == "cancelled":
        raise RenderCancelled("render cancelled", stderr_tail=stderr_tail)
    if reason == "timeout":
        raise RenderTimeout(f"render exceeded {timeout_sec:g}s", stderr_tail=stderr_tail)
    if process.returncode != 0:
        last = next((line for line in reversed(tail) if line.strip()), "no output")
        raise RenderFailed(
            f"FFmpeg exited with {process.returncode}: {last}", stderr_tail=stderr_tail
        )
    if on_progress is not None:
        on_progress(1.0)
    return RunResult(seconds=seconds, stderr_tail=stderr_tail)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _read_stderr(process: subprocess.Popen[bytes], tail: collections.deque[str]) -> None:
    assert process.stderr is not None
    for raw in process.stderr:
        tail.append(raw.decode("utf-8", "replace").rstrip())


def _read_progress(
    process: subprocess.Popen[bytes],
    expected_sec: float | None,
    on_progress: ProgressCallback | None,
) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        if on_progress is None or not expected_sec:
            continue
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            fraction = int(value) / 1_000_000 / expected_sec
            on_progress(min(max(fraction, 0.0), 0.999))
