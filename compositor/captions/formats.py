"""Caption files with webvtt-py: WebVTT and SubRip (SRT) from timed cues.

Cue text is user text, so it is made literal for each format. WebVTT has character
references: ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;``, ``&gt;`` (which also keeps a
``-->`` in a script from reading as a timing line). SRT has no escapes, and players (and
webvtt-py's writer) treat ``<...>`` as tags, so there ``<`` and ``>`` are written as the
look-alike single guillemets ``‹`` and ``›``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import webvtt

from compositor.captions.cues import TimedCue


def timestamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def srt_literal(line: str) -> str:
    return line.replace("<", "‹").replace(">", "›")


def _document(cues: Sequence[TimedCue], *, srt: bool) -> webvtt.WebVTT:
    convert = srt_literal if srt else vtt_escape
    captions = [
        webvtt.Caption(
            start=timestamp(cue.start_ms),
            end=timestamp(cue.end_ms),
            text=[convert(line) for line in cue.lines],
        )
        for cue in cues
    ]
    return webvtt.WebVTT(captions=captions)


def vtt_content(cues: Sequence[TimedCue]) -> str:
    return _document(cues, srt=False).content


def srt_content(cues: Sequence[TimedCue]) -> str:
    buffer = io.StringIO()
    _document(cues, srt=True).write(buffer, format="srt")
    return buffer.getvalue() + "\n"


def write_vtt(cues: Sequence[TimedCue], path: Path) -> None:
    path.write_text(vtt_content(cues), encoding="utf-8")


def write_srt(cues: Sequence[TimedCue], path: Path) -> None:
    path.write_text(srt_content(cues), encoding="utf-8")
