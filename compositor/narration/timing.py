"""What every engine returns: a WAV file and word timings on the raw narration timeline.

Times are integer milliseconds at pace 1.0 from the first sample of the WAV (engines trim
leading silence, so the voice starts at 0). On the output timeline a raw time ``t`` lands at
``voiceStartSec + t / speechPace`` (see ``to_output_ms``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compositor.narration.script import Break, Script

EngineName = Literal["local", "premium"]


class _InSeconds:
    """``start_sec`` / ``end_sec`` of a span kept in integer milliseconds."""

    start_ms: int
    end_ms: int

    @property
    def start_sec(self) -> float:
        return self.start_ms / 1000

    @property
    def end_sec(self) -> float:
        return self.end_ms / 1000


@dataclass(frozen=True)
class WordTiming(_InSeconds):
    text: str
    start_ms: int
    end_ms: int
    brk: Break = Break.NONE  # the pause after it, for caption breaks


@dataclass(frozen=True)
class SentenceTiming(_InSeconds):
    text: str
    start_ms: int
    end_ms: int
    first_word: int  # index into Narration.words
    word_count: int


@dataclass(frozen=True)
class Narration:
    """Raw narration: play ``path`` from ``voiceStartSec`` at ``speechPace``.

    ``complete`` is False when synthesis stopped at a length limit (the script could never
    fit): ``speech_ms`` is then the whole script's length estimated from the share of text
    spoken (a recording's exact length), ``words`` is empty and the file holds only the
    start (nothing, for a recording). ``narrate()`` turns it into ``narration_too_long``.
    """

    path: Path  # WAV, 16-bit PCM, mono or stereo, the engine's own sample rate
    sample_rate: int
    duration_ms: int  # length of the file
    speech_ms: int  # where the voice ends (the last word's end), or the estimate
    words: tuple[WordTiming, ...]
    sentences: tuple[SentenceTiming, ...]
    engine: str  # "local", "premium" or "source"
    voice: str | None
    complete: bool = True

    @property
    def duration_sec(self) -> float:
        return self.duration_ms / 1000

    @property
    def speech_sec(self) -> float:
        return self.speech_ms / 1000


def to_output_ms(raw_ms: int, *, pace: float, voice_start_ms: int) -> int:
    """Where a raw narration time is heard in the output: ``voiceStart + t / pace``."""
    return voice_start_ms + round(raw_ms / pace)


def sentences_of(words: tuple[WordTiming, ...], script: Script) -> tuple[SentenceTiming, ...]:
    """Sentence timings of ``script`` from its words' timings: first word's start, last's end."""
    return tuple(
        SentenceTiming(
            text=sentence.text(script),
            start_ms=words[sentence.first].start_ms,
            end_ms=words[sentence.stop - 1].end_ms,
            first_word=sentence.first,
            word_count=sentence.stop - sentence.first,
        )
        for sentence in script.sentences
        if sentence.stop > sentence.first
    )
