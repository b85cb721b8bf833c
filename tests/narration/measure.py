"""Measure narration audio in tests, independently of the engine's own voice gate.

10 ms RMS windows (tests.mediatools.rms_envelope) against fixed dBFS thresholds: what a
listener would call sound and silence, not what the code under test decided.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from tests.mediatools import rms_envelope

WINDOW_MS = 10
SOUND_DB = -45.0  # a window above this is sound
SILENCE_DB = -55.0  # a window below this is silence


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples and the rate of a 16-bit WAV."""
    with wave.open(str(path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32)
    data = data.reshape(-1, channels).mean(axis=1) / 32768.0
    return data, rate


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    return rms_envelope(samples, rate, WINDOW_MS / 1000)


def first_sound_ms(samples: np.ndarray, rate: int) -> int:
    level = envelope(samples, rate)
    loud = np.flatnonzero(level > SOUND_DB)
    assert len(loud), "no sound at all"
    return int(loud[0]) * WINDOW_MS


def last_sound_ms(samples: np.ndarray, rate: int) -> int:
    level = envelope(samples, rate)
    loud = np.flatnonzero(level > SOUND_DB)
    assert len(loud), "no sound at all"
    return (int(loud[-1]) + 1) * WINDOW_MS


def onsets_after_pauses(samples: np.ndarray, rate: int, min_pause_ms: int = 150) -> list[int]:
    """Where sound starts again after at least ``min_pause_ms`` of silence (ms)."""
    level = envelope(samples, rate)
    onsets = []
    quiet = 0
    for index, value in enumerate(level):
        if value < SILENCE_DB:
            quiet += 1
        else:
            if quiet * WINDOW_MS >= min_pause_ms and value > SOUND_DB:
                onsets.append(index * WINDOW_MS)
            if value > SOUND_DB:
                quiet = 0
    return onsets


def level_db(samples: np.ndarray, rate: int, start_ms: int, end_ms: int) -> float:
    part = samples[rate * start_ms // 1000 : rate * end_ms // 1000].astype(np.float64)
    if not len(part):
        return -200.0
    return 20 * float(np.log10(max(np.sqrt(np.mean(part**2)), 1e-10)))


def median_pitch_hz(samples: np.ndarray, rate: int) -> float:
    """Median fundamental over loud 40 ms frames, by autocorrelation in 60-400 Hz."""
    size = rate * 40 // 1000
    lags = range(rate // 400, rate // 60)
    pitches = []
    for start in range(0, len(samples) - size, size):
        frame = samples[start : start + size].astype(np.float64)
        if np.sqrt(np.mean(frame**2)) < 0.02:
            continue
        frame = frame - frame.mean()
        corr = np.correlate(frame, frame, mode="full")[size - 1 :]
        best = max(lags, key=lambda lag: corr[lag])
        if corr[best] > 0.3 * corr[0]:
            pitches.append(rate / best)
    assert pitches, "no voiced frames"
    return float(np.median(pitches))
