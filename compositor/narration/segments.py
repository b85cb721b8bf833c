"""Narration segments with pydub: decode, trim to the voice, join with pauses, measure, export.

pydub only ever holds PCM here. Encoded audio (WAV, MP3, Opus... whatever a server sends) is
decoded by PyAV, which links its own FFmpeg libraries, so pydub never looks for an ``ffmpeg``
program (its ``export(format="wav")`` writes with the ``wave`` module). That keeps the rule
that only ``compositor.runner`` starts FFmpeg.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import av
import av.error
import numpy as np

from compositor.narration import audio

with warnings.catch_warnings():
    # At import pydub warns that no ffmpeg is on PATH (not needed: PCM only) and Python warns
    # that audioop, which pydub uses, is deprecated.
    warnings.simplefilter("ignore")
    from pydub import AudioSegment


def use_ffmpeg(path: str) -> None:
    """Should anything ever hand pydub an encoded file, it runs the bundled (or configured)
    FFmpeg, not whatever is, or is not, on PATH."""
    AudioSegment.converter = path


class NotAudio(Exception):
    """Raised when bytes do not decode to any audio."""


def decode(data: bytes) -> AudioSegment:
    """Any container/codec PyAV reads -> 16-bit PCM segment (mono, or stereo if it was)."""
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise NotAudio("no audio stream")
            stream = container.streams.audio[0]
            channels = 1 if (stream.codec_context.channels or 1) == 1 else 2
            rate = stream.codec_context.sample_rate or 24_000
            resampler = av.AudioResampler(
                format="s16", layout="mono" if channels == 1 else "stereo", rate=rate
            )
            chunks: list[bytes] = []
            for frame in container.decode(stream):
                chunks.extend(out.to_ndarray().tobytes() for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().tobytes() for out in resampler.resample(None))
    except (av.error.FFmpegError, EOFError, ValueError, OSError) as exc:
        raise NotAudio(str(exc)) from None
    pcm = b"".join(chunks)
    if not pcm:
        raise NotAudio("no audio samples")
    return AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=channels)


def samples(segment: AudioSegment) -> np.ndarray:
    """int16 (frames,) or (frames, channels)."""
    data = np.frombuffer(segment.raw_data, dtype="<i2")
    return data if segment.channels == 1 else data.reshape(-1, segment.channels)


def trim_to_voice(segment: AudioSegment) -> AudioSegment | None:
    """The segment without leading and trailing silence; None if it is all silence."""
    bounds = audio.speech_bounds(audio.to_float_mono(samples(segment)), segment.frame_rate)
    if bounds is None:
        return None
    start, stop = bounds
    return segment.get_sample_slice(start, stop)


def conform(segment: AudioSegment, like: AudioSegment) -> AudioSegment:
    """Same rate, channels and sample width as ``like`` (servers may vary per request)."""
    return (
        segment.set_frame_rate(like.frame_rate)
        .set_channels(like.channels)
        .set_sample_width(like.sample_width)
    )


def join(segments: list[AudioSegment], gap_ms: int) -> tuple[AudioSegment, list[int]]:
    """Segments one after another with ``gap_ms`` of silence between; each one's first
    sample. Positions are counted in samples, so they do not drift with pydub's milliseconds.
    """
    first = segments[0]
    rate = first.frame_rate
    gap = AudioSegment.silent(duration=gap_ms, frame_rate=rate).set_channels(first.channels)
    gap = gap.set_sample_width(first.sample_width)
    joined = first
    starts = [0]
    at = int(first.frame_count())
    for segment in segments[1:]:
        joined += gap
        at += int(gap.frame_count())
        starts.append(at)
        joined += segment
        at += int(segment.frame_count())
    return joined, starts


def length_ms(segment: AudioSegment) -> int:
    return audio.samples_to_ms(int(segment.frame_count()), segment.frame_rate)


def export_wav(segment: AudioSegment, path: Path) -> None:
    segment.export(str(path), format="wav")  # wave module, no ffmpeg
