"""Narration: a script spoken by an engine (``local`` eSpeak NG, ``premium`` HTTP) or a
recording (``audio.narration.source``), as a WAV file plus word timings.

The render pipeline calls ``narrate(job.audio, job.output, settings, work_dir, resolver=...)``
and gets a ``NarrationTrack`` (or None without narration): the WAV to mix, the pace to play it
at (``speechPace``, raised up to 1.25x under ``durationMode: fit``) and the word timings.
The API calls ``available(engine, settings)`` before holding any credit.

Timelines: word timings are integer milliseconds on the raw narration (the WAV as written,
pace 1.0, first sample = voice onset). A word at raw time ``t`` is heard on the output at::

    voiceStartSec + t / speechPace

(``NarrationTrack.to_output_ms``, ``NarrationTrack.output_words()``). Pitch does not move
words: it is a pitch shift at constant tempo. In an FFmpeg graph that means stretching first
and delaying after (``rubberband=tempo=P,adelay=S``): a delay placed before the stretch would
be stretched too (``tests/captions/test_script_captions.py`` measures exactly this chain).
"""

from compositor.narration.narrate import (
    NarrationTrack,
    available,
    ensure_available,
    narrate,
    synthesize,
    synthesize_script,
)
from compositor.narration.timing import Narration, SentenceTiming, WordTiming, to_output_ms

__all__ = [
    "Narration",
    "NarrationTrack",
    "SentenceTiming",
    "WordTiming",
    "available",
    "ensure_available",
    "narrate",
    "synthesize",
    "synthesize_script",
    "to_output_ms",
]
