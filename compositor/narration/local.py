"""The ``local`` engine: eSpeak NG on this machine, no network, word timings from its events.

Each WORD event names a character position in the script and the sample where that word
starts. Events are matched to the script's words by position (eSpeak may report several
words for one token, "2024" is "twenty twenty-four", or point at the space before it), a
word starts at its first event's sample and ends at the last voiced window before the next
word starts, so the pause after a comma belongs to neither word.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

import numpy as np

from compositor.errors import InvalidJob, NarrationError
from compositor.narration import audio
from compositor.narration.espeak import Synthesis, load_espeak
from compositor.narration.script import Script
from compositor.narration.timing import Narration, WordTiming, sentences_of
from compositor.settings import Settings

# Friendly name -> eSpeak NG voice. Variants ("+f3") change the speaker, not the language.
LANGUAGES = {
    "en-us": "en-us",
    "en-gb": "en-gb-x-rp",
    "es": "es",
    "es-419": "es-419",
    "fr": "fr",
    "de": "de",
    "it": "it",
    "nl": "nl",
    "pt": "pt",
    "pt-br": "pt-br",
}
VARIANTS = frozenset({*(f"m{i}" for i in range(1, 8)), *(f"f{i}" for i in range(1, 6))})
VOICE_FIELD = "audio.voice"
ABORT_MARGIN_MS = 1000


def espeak_voice(name: str) -> str:
    """``en-us``, ``en-gb+f3``... -> the eSpeak voice; anything else is refused."""
    match = re.fullmatch(r"([a-z]{2}(?:-[a-z0-9]{2,3})?)(?:\+([a-z0-9]+))?", name.strip().lower())
    if match and match.group(1) in LANGUAGES and (match.group(2) in VARIANTS or not match.group(2)):
        language, variant = LANGUAGES[match.group(1)], match.group(2)
        return f"{language}+{variant}" if variant else language
    raise InvalidJob(
        f"{VOICE_FIELD}: unknown local voice {name!r}; use one of "
        f"{', '.join(sorted(LANGUAGES))}, optionally with +m1..m7 or +f1..f5 (e.g. en-us+f3)",
        field=VOICE_FIELD,
        code="narration_voice_unknown",
    )


def available(settings: Settings) -> bool:
    """eSpeak NG loads and initializes (cached after the first success)."""
    try:
        load_espeak(settings.espeak_library, settings.espeak_data_dir)
    except NarrationError:
        return False
    return True


def speak(
    script: Script, voice: str | None, settings: Settings, path: Path, *, max_ms: int | None
) -> Narration:
    """Synthesize ``script`` into ``path`` (mono WAV at eSpeak's rate, 22 050 Hz)."""
    name = settings.narration_voice if voice is None else voice
    engine_voice = espeak_voice(name)
    engine = load_espeak(settings.espeak_library, settings.espeak_data_dir)
    rate = engine.sample_rate
    # eSpeak's own leading and trailing silence count against the limit: allow for them, so a
    # script that just fits is never cut.
    max_samples = None if max_ms is None else (max_ms + ABORT_MARGIN_MS) * rate // 1000
    result = engine.synthesize(script.text, engine_voice, max_samples=max_samples)
    mono = audio.to_float_mono(result.samples)
    bounds = audio.speech_bounds(mono, rate)
    if bounds is None:
        raise InvalidJob(
            "audio.narration.script: the voice produced no sound for this script",
            field="audio.narration.script",
            code="narration_script_unspeakable",
        )
    onset, offset = bounds
    starts = word_start_samples(script, result)
    ends = word_end_samples(starts, mono, rate, offset)
    words = tuple(
        WordTiming(
            word.text,
            audio.samples_to_ms(max(start - onset, 0), rate),
            audio.samples_to_ms(max(end - onset, 0), rate),
            word.brk,
        )
        for word, start, end in zip(script.words, starts, ends, strict=True)
    )
    trimmed = result.samples[onset:offset]
    audio.write_wav(path, trimmed, rate)
    spoken_ms = audio.samples_to_ms(len(trimmed), rate)
    if not result.complete:
        # Stopped at the limit: the script cannot fit, so only its length matters. Estimate
        # the whole from the share of the text spoken so far.
        chars, sample = result.progress
        heard_ms = audio.samples_to_ms(max(sample - onset, 0), rate)
        estimate = heard_ms * len(script.text) // chars if chars else spoken_ms
        return Narration(
            path, rate, spoken_ms, max(estimate, spoken_ms), (), (), "local", name, complete=False
        )
    return Narration(
        path=path,
        sample_rate=rate,
        duration_ms=spoken_ms,
        speech_ms=words[-1].end_ms,
        words=words,
        sentences=sentences_of(words, script),
        engine="local",
        voice=name,
    )


def word_start_samples(script: Script, result: Synthesis) -> list[int]:
    """Start sample of every script word: its first event (a word eSpeak reported no event for
    starts with the word before it, so timings stay monotonic)."""
    word_starts = [w.start for w in script.words]
    first_event: list[int | None] = [None] * len(script.words)
    for event in result.words:
        # The word containing the position, else the next one (eSpeak sometimes reports the
        # space before a number).
        index = bisect.bisect_right(word_starts, event.char_index) - 1
        if index < 0 or event.char_index >= script.words[index].end:
            index += 1
        if 0 <= index < len(script.words):
            current = first_event[index]
            first_event[index] = event.sample if current is None else min(current, event.sample)
    total = len(result.samples)
    starts: list[int] = []
    for sample in first_event:
        if sample is None:  # silent token: start where the previous one starts (or 0)
            sample = starts[-1] if starts else 0
        starts.append(min(max(sample, starts[-1] if starts else 0), total))
    return starts


def word_end_samples(starts: list[int], mono: np.ndarray, rate: int, offset: int) -> list[int]:
    """Each word ends at its last voiced window before the next word starts."""
    voiced = audio.voiced_windows(mono, rate)
    size = audio.window_samples(rate)
    ends = []
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else offset
        stop = max(stop, start)
        end = audio.last_voiced_before(voiced, size, start, stop)
        ends.append(start if end is None else end)
    return ends
