"""Synthesize the builtin music beds (assets/music/*.m4a) from code: no samples, no downloads.

Each bed is a loopable 4-bar chord progression repeated: soft detuned pads, a bass line, and
(for the rhythmic beds) a kick and hats from shaped noise. Deterministic (fixed seed). The
outputs are committed and licensed with the project (assets/LICENSE.md). Usage:
    python scripts/make_music.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE = 48000
SEMITONE = 2 ** (1 / 12)


@dataclass(frozen=True)
class Bed:
    name: str
    bpm: int
    root_hz: float
    chords: tuple[tuple[int, ...], ...]  # semitone offsets from the root, one chord per bar
    drums: bool
    bars: int = 8


BEDS = (
    Bed("upbeat", 118, 261.63, ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)), True),
    Bed("calm", 76, 220.0, ((0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)), False),
    Bed("corporate", 100, 246.94, ((0, 4, 7, 11), (5, 9, 12, 16), (9, 12, 16), (7, 11, 14)), True),
)


def envelope(length: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(length)
    a, r = int(attack * RATE), int(release * RATE)
    env[:a] = np.linspace(0, 1, a) if a else 1
    if r:
        env[-r:] *= np.linspace(1, 0, r)
    return env


def pad(freqs: list[float], seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    voice = np.zeros_like(t)
    for f in freqs:
        for detune in (0.997, 1.0, 1.003):  # three slightly detuned saw-ish partials: warmth
            for harmonic, weight in ((1, 1.0), (2, 0.35), (3, 0.15)):
                voice += weight * np.sin(2 * np.pi * f * detune * harmonic * t)
    return voice * envelope(len(t), 0.25, 0.4) / (len(freqs) * 3)


def bass(freq: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(4 * np.pi * freq * t)
    return tone * envelope(len(t), 0.01, 0.1)


def kick(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.3 * RATE)) / RATE
    sweep = 50 + 90 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(sweep) / RATE) * np.exp(-t * 12)


def hat(rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(int(0.05 * RATE))
    noise = np.diff(noise, prepend=0)  # crude high-pass
    return noise * np.exp(-np.arange(len(noise)) / RATE * 80) * 0.15


def render_bed(bed: Bed) -> np.ndarray:
    rng = np.random.default_rng(7)
    beat = 60 / bed.bpm
    bar = 4 * beat
    total = int(bed.bars * bar * RATE)
    left, right = np.zeros(total), np.zeros(total)
    for index in range(bed.bars):
        chord = bed.chords[index % len(bed.chords)]
        start = int(index * bar * RATE)
        freqs = [bed.root_hz * SEMITONE**step for step in chord]
        chunk = pad(freqs, bar)
        end = min(start + len(chunk), total)
        left[start:end] += 0.5 * chunk[: end - start]
        right[start:end] += 0.5 * np.roll(chunk, 240)[: end - start]  # 5 ms: a little width
        for b in range(4):
            note = bass(freqs[0] / 2, beat * 0.9)
            at = start + int(b * beat * RATE)
            stop = min(at + len(note), total)
            left[at:stop] += 0.35 * note[: stop - at]
            right[at:stop] += 0.35 * note[: stop - at]
            if bed.drums:
                for sound, when, gain in ((kick(rng), 0.0, 0.6), (hat(rng), 0.5, 1.0)):
                    at = start + int((b + when) * beat * RATE)
                    stop = min(at + len(sound), total)
                    left[at:stop] += gain * sound[: stop - at]
                    right[at:stop] += gain * sound[: stop - at]
    stereo = np.stack([left, right], axis=1)
    return 0.7 * stereo / np.max(np.abs(stereo))


def write(bed: Bed, out: Path) -> None:
    samples = render_bed(bed)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "bed.wav"
        with wave.open(str(wav), "wb") as handle:
            handle.setnchannels(2)
            handle.setsampwidth(2)
            handle.setframerate(RATE)
            handle.writeframes((samples * 32767).astype("<i2").tobytes())
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
             "-i", str(wav), "-c:a", "aac", "-b:a", "96k", "-map_metadata", "-1", str(out)],
            check=True,
        )  # fmt: skip


def main() -> int:
    folder = ROOT / "assets" / "music"
    folder.mkdir(parents=True, exist_ok=True)
    for bed in BEDS:
        out = folder / f"{bed.name}.m4a"
        write(bed, out)
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
