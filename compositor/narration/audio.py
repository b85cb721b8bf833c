"""Measure and write narration audio: voiced windows, speech bounds, 16-bit WAV files.

Voice activity is an RMS gate over 5 ms windows: a window is voiced when it is louder than
both an absolute floor and a level relative to the loudest window. The relative gate keeps a
quiet recording's breaths and a loud one's room noise on the same side of the line.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

WINDOW_MS = 5
FLOOR_DB = -55.0  # dBFS; digital silence and dither stay below
BELOW_PEAK_DB = 40.0  # windows this far under the loudest are pauses


def to_float_mono(pcm: np.ndarray) -> np.ndarray:
    """int16 samples (frames,) or (frames, channels) -> float32 mono in [-1, 1]."""
    data = pcm.astype(np.float32) / 32768.0
    return data.mean(axis=1) if data.ndim == 2 else data


def window_samples(rate: int) -> int:
    return max(rate * WINDOW_MS // 1000, 1)


def voiced_windows(mono: np.ndarray, rate: int) -> np.ndarray:
    """One bool per WINDOW_MS window: is someone speaking there."""
    size = window_samples(rate)
    count = len(mono) // size
    if count == 0:
        return np.zeros(0, dtype=bool)
    blocks = mono[: count * size].reshape(count, size).astype(np.float64)
    level = 20 * np.log10(np.maximum(np.sqrt(np.mean(blocks**2, axis=1)), 1e-10))
    gate = max(FLOOR_DB, float(level.max()) - BELOW_PEAK_DB)
    return level > gate


def speech_bounds(mono: np.ndarray, rate: int) -> tuple[int, int] | None:
    """(first voiced sample, sample after the last voiced window), or None if silent."""
    voiced = voiced_windows(mono, rate)
    if not voiced.any():
        return None
    size = window_samples(rate)
    first = int(np.argmax(voiced))
    last = len(voiced) - 1 - int(np.argmax(voiced[::-1]))
    return first * size, (last + 1) * size


def last_voiced_before(voiced: np.ndarray, size: int, start: int, stop: int) -> int | None:
    """End sample of the last voiced window inside samples [start, stop), if any."""
    # Only windows wholly before ``stop``: the one holding ``stop`` is the next word's onset.
    first_window, stop_window = start // size, min(stop // size, len(voiced))
    region = voiced[first_window:stop_window]
    if not region.any():
        return None
    last = first_window + len(region) - 1 - int(np.argmax(region[::-1]))
    return min((last + 1) * size, stop)


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> None:
    """16-bit PCM WAV from int16 samples (frames,) or (frames, channels)."""
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())


def samples_to_ms(samples: int, rate: int) -> int:
    return round(samples * 1000 / rate)
