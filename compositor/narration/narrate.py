"""Entry points: synthesize a job's narration, fit it to the slot, check an engine is up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from compositor.errors import InvalidJob, NarrationError
from compositor.ffmpeg_bin import find_ffmpeg
from compositor.job import Audio, NarrationScript, Output
from compositor.narration import fit, local, premium, segments, source
from compositor.narration.script import SCRIPT_FIELD, parse_script
from compositor.narration.source import SOURCE_FIELD
from compositor.narration.timing import Narration, WordTiming, to_output_ms
from compositor.settings import Settings
from compositor.sources import SourceResolver

Engine = Literal["local", "premium"]
ENGINE_FIELD = "audio.narrationEngine"
WAV_NAME = "narration.wav"


@dataclass(frozen=True)
class NarrationTrack:
    """A narration placed on the output: play ``narration.path`` from ``voice_start_ms`` at
    ``pace`` (already raised when ``durationMode`` is ``fit`` and it had to be)."""

    narration: Narration
    pace: float
    voice_start_ms: int
    slot_ms: int

    @property
    def voice_start_sec(self) -> float:
        return self.voice_start_ms / 1000

    @property
    def end_ms(self) -> int:
        """Where the voice ends on the output timeline."""
        return self.to_output_ms(self.narration.speech_ms)

    def to_output_ms(self, raw_ms: int) -> int:
        return to_output_ms(raw_ms, pace=self.pace, voice_start_ms=self.voice_start_ms)

    def output_words(self) -> tuple[WordTiming, ...]:
        """The words as heard in the output (pace and start applied)."""
        return tuple(
            WordTiming(w.text, self.to_output_ms(w.start_ms), self.to_output_ms(w.end_ms), w.brk)
            for w in self.narration.words
        )


def check_engine(engine: str) -> Engine:
    if engine not in get_args(Engine):
        raise InvalidJob(
            f"{ENGINE_FIELD}: unknown narration engine {engine!r} (local or premium)",
            field=ENGINE_FIELD,
        )
    return engine  # type: ignore[return-value]


def synthesize_script(
    script: str,
    *,
    engine: str = "local",
    voice: str | None,
    settings: Settings,
    path: Path,
    max_ms: int | None = None,
) -> Narration:
    """Speak ``script`` into the WAV ``path`` at pace 1.0, with word timings.

    Synthesis stops once the audio passes ``max_ms`` (and always at ``narration_max_sec``);
    the result is then ``complete=False`` with an estimated ``speech_ms``.
    """
    name = check_engine(engine)
    parsed = parse_script(script)
    limit = round(settings.narration_max_sec * 1000)
    limit = limit if max_ms is None else min(limit, max_ms)
    if name == "premium":
        return premium.speak(parsed, voice, settings, path, max_ms=limit)
    return local.speak(parsed, voice, settings, path, max_ms=limit)


def synthesize(
    audio: Audio,
    settings: Settings,
    work_dir: Path,
    *,
    resolver: SourceResolver | None = None,
    max_ms: int | None = None,
) -> Narration | None:
    """The job's raw narration as ``work_dir/narration.wav``, or None without narration."""
    if audio.narration is None:
        return None
    out = work_dir / WAV_NAME
    if isinstance(audio.narration, NarrationScript):
        return synthesize_script(
            audio.narration.script,
            engine=audio.narration_engine,
            voice=audio.voice,
            settings=settings,
            path=out,
            max_ms=max_ms,
        )
    if resolver is None:
        raise InvalidJob(f"{SOURCE_FIELD}: no resolver for narration sources", field=SOURCE_FIELD)
    path = resolver.resolve(audio.narration.source, SOURCE_FIELD)
    limit = round(settings.narration_max_sec * 1000)
    return source.from_source(path, out, max_ms=limit if max_ms is None else min(limit, max_ms))


def narrate(
    audio: Audio,
    output: Output,
    settings: Settings,
    work_dir: Path,
    *,
    resolver: SourceResolver | None = None,
) -> NarrationTrack | None:
    """Synthesize and fit: what the render pipeline calls. Raises ``narration_too_long``
    (with ``overflowSec``) before anything renders when the voice cannot end in the slot."""
    segments.use_ffmpeg(find_ffmpeg(settings.ffmpeg_path).path)
    slot_ms = round(output.duration_sec * 1000)
    voice_start_ms = round(audio.voice_start_sec * 1000)
    mode = output.duration_mode
    limit = fit.max_speech_ms(audio.speech_pace, voice_start_ms, slot_ms, mode)
    narration = synthesize(audio, settings, work_dir, resolver=resolver, max_ms=limit)
    if narration is None:
        return None
    field = SCRIPT_FIELD if narration.engine != "source" else SOURCE_FIELD
    # A narration cut at the limit never fits, whatever the estimate of its whole length says.
    speech_ms = narration.speech_ms if narration.complete else max(narration.speech_ms, limit + 1)
    pace = fit.fit_pace(
        speech_ms,
        pace=audio.speech_pace,
        voice_start_ms=voice_start_ms,
        slot_ms=slot_ms,
        mode=mode,
        estimated=not narration.complete and narration.engine != "source",
        field=field,
    )
    return NarrationTrack(narration, pace, voice_start_ms, slot_ms)


def ensure_available(engine: str, settings: Settings) -> None:
    """Raise ``narration_unavailable`` (with the reason) unless ``engine`` can speak now."""
    name = check_engine(engine)
    if name == "premium":
        reason = premium.unavailable_reason(settings)
        if reason is not None:
            raise NarrationError(f"premium narration is unavailable: {reason}", field=ENGINE_FIELD)
    elif not local.available(settings):
        raise NarrationError(
            "local narration is unavailable: eSpeak NG does not load", field=ENGINE_FIELD
        )


def available(engine: str, settings: Settings) -> bool:
    """Cheap preflight before any credit is held: local loads eSpeak; premium asks the server's
    ``/v1/models`` with a short timeout (no synthesis, nothing billed)."""
    try:
        ensure_available(engine, settings)
    except NarrationError:
        return False
    return True
