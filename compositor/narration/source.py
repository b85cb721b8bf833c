"""Narration from a recording (``audio.narration.source``): probe, decode, trim to the voice.

A recording has no script, so it has no word timings: captions for it come from the API's
cues, not from here. Leading silence is trimmed like the engines' so the voice is heard at
``voiceStartSec``; trailing silence too, so fitting measures the voice, not the room tone.
"""

from __future__ import annotations

from pathlib import Path

from compositor.errors import SourceUnavailable
from compositor.narration import segments
from compositor.narration.timing import Narration
from compositor.probe import probe

SOURCE_FIELD = "audio.narration.source"


def not_audio(path: Path, why: str) -> SourceUnavailable:
    return SourceUnavailable(
        f"{SOURCE_FIELD}: {path.name} is not an audio recording ({why})",
        field=SOURCE_FIELD,
        code="narration_source_not_audio",
    )


def from_source(path: Path, out: Path, *, max_ms: int | None) -> Narration:
    """Decode the recording at ``path`` into the WAV ``out``."""
    try:
        info = probe(path, field=SOURCE_FIELD)
    except SourceUnavailable as exc:
        if exc.code in ("source_unreadable", "source_empty"):
            raise not_audio(path, exc.message) from None
        raise
    if info.audio is None:
        raise not_audio(path, "it has no audio stream")
    if info.is_image:
        raise not_audio(path, "it is an image")
    if max_ms is not None and info.audio.duration_sec * 1000 > max_ms:
        # Too long to ever fit: report its length without decoding all of it.
        ms = round(info.audio.duration_sec * 1000)
        return Narration(
            out, info.audio.sample_rate, ms, ms, (), (), "source", None, complete=False
        )
    try:
        recording = segments.decode(path.read_bytes())
    except segments.NotAudio as exc:
        raise not_audio(path, str(exc)) from None
    voiced = segments.trim_to_voice(recording)
    if voiced is None:
        raise not_audio(path, "it is silent")
    segments.export_wav(voiced, out)
    ms = segments.length_ms(voiced)
    return Narration(out, voiced.frame_rate, ms, ms, (), (), "source", None)
