"""Test helpers: make media with FFmpeg's lavfi sources, and measure rendered files.

Measuring reads real decoded pixels and samples (PyAV + numpy), so a test shows a feature: a
fade blends, a caption darkens its box, a voice starts when asked.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    """Run FFmpeg for test fixtures (the product goes through compositor.runner)."""
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        timeout=120,
    )


def colour_clip(
    path: Path,
    colour: str,
    seconds: float,
    *,
    size: str = "320x180",
    rate: int = 30,
    tone: float | None = 440,
    extra: tuple[str, ...] = (),
) -> Path:
    args = ["-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={rate}:d={seconds}"]
    if tone is not None:
        args += ["-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra]
    if tone is not None:
        args += ["-c:a", "aac", "-shortest"]
    ffmpeg(*args, str(path))
    return path


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The RGB frame shown at ``seconds`` (the last frame whose time is <= seconds)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        chosen = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > seconds + 1e-6:
                break
            chosen = frame
        assert chosen is not None, f"no frame at {seconds}s in {path}"
        return chosen.to_ndarray(format="rgb24")


def mean_rgb(
    frame: np.ndarray, box: tuple[float, float, float, float] = (0, 0, 1, 1)
) -> np.ndarray:
    """Mean colour of a region given as fractions (x0, y0, x1, y1) of the frame."""
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = box
    region = frame[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)]
    return region.reshape(-1, 3).mean(axis=0)


def audio_samples(path: Path, rate: int = 48000) -> np.ndarray:
    """The first audio stream as mono float32 at ``rate``."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def rms_db(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    return 20 * np.log10(max(rms, 1e-10))


def rms_envelope(samples: np.ndarray, rate: int = 48000, window_sec: float = 0.01) -> np.ndarray:
    """RMS per window, in dBFS."""
    window = max(int(rate * window_sec), 1)
    count = len(samples) // window
    blocks = samples[: count * window].reshape(count, window).astype(np.float64)
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(blocks**2, axis=1)), 1e-10))


def dominant_frequency(samples: np.ndarray, rate: int = 48000) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(freqs[int(np.argmax(spectrum[1:])) + 1])


def stream_durations(path: Path) -> tuple[float, float]:
    """(video, audio) stream durations in seconds."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        return (
            float(video.duration * video.time_base),
            float(audio.duration * audio.time_base),
        )


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(video=0) if packet.size)


def video_info(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        info: dict[str, object] = {
            "codec": video.codec_context.name,
            "profile": video.profile,
            "pix_fmt": video.codec_context.pix_fmt,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": Fraction(video.average_rate) if video.average_rate else None,
        }
        if audio is not None:
            info.update(
                audio_codec=audio.codec_context.name,
                sample_rate=audio.codec_context.sample_rate,
                channels=audio.codec_context.channels,
                audio_profile=audio.profile,
            )
        return info


def moov_before_mdat(path: Path) -> bool:
    """+faststart: the index (moov) precedes the media data (mdat)."""
    data = path.read_bytes()[:4_000_000]
    return 0 <= data.find(b"moov") < data.find(b"mdat")
