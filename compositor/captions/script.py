"""Captions for a script, timed by its narration as it will be spoken.

The library call behind the API's captions route and ``compositor captions``: the script is
synthesized exactly as the render will synthesize it (same engine, voice, pace, start and
fit), its words are placed on the output timeline (``voiceStartSec + t / pace``) and split
into cues. The same inputs give the same cues (eSpeak is deterministic), which is what lets
the API return saved cues when script and timing are unchanged.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from compositor.captions.cues import RULES, CueRules, TimedCue, TimedWord, split_cues
from compositor.errors import InvalidJob
from compositor.job import Audio, Output, json_path
from compositor.narration.narrate import NarrationTrack, narrate
from compositor.narration.script import parse_script
from compositor.settings import Settings

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class CaptionTrack:
    cues: tuple[TimedCue, ...]
    pace: float  # the pace the narration is spoken at (raised by durationMode fit)
    voice_start_ms: int
    voice_end_ms: int  # where the voice ends on the output timeline
    slot_ms: int

    def cue_dicts(self) -> list[dict[str, Any]]:
        """``[{startSec, endSec, text, words: [{text, startSec, endSec}]}]`` as in a job."""
        return [cue_dict(cue) for cue in self.cues]


def cue_dict(cue: TimedCue) -> dict[str, Any]:
    return {
        "startSec": cue.start_ms / 1000,
        "endSec": cue.end_ms / 1000,
        "text": cue.text,
        "words": [
            {"text": w.text, "startSec": w.start_ms / 1000, "endSec": w.end_ms / 1000}
            for w in cue.words
        ],
    }


def cues_for_track(track: NarrationTrack, rules: CueRules = RULES) -> tuple[TimedCue, ...]:
    """Cues for a narration already placed on the output (what the render pipeline has)."""
    words = [TimedWord(w.text, w.start_ms, w.end_ms, w.brk) for w in track.output_words()]
    return split_cues(words, track.slot_ms, rules)


def _validated(model: type[ModelT], data: dict[str, Any], prefix: str) -> ModelT:
    """Validate with the job's own models, so the API and a job refuse the same values."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Union members (narration) add their class name to the path; drop it as parse_job does.
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p[:1].isupper()))
        field = f"{prefix}.{json_path(loc)}"
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidJob(f"{field}: {message}", field=field) from None


def script_captions(
    script: str,
    *,
    settings: Settings,
    pace: float = 1.0,
    voice_start_sec: float = 0.5,
    duration_sec: float = 15.0,
    engine: str = "local",
    voice: str | None = None,
    duration_mode: str = "trim-pad",
    rules: CueRules = RULES,
    work_dir: Path | None = None,
) -> CaptionTrack:
    """Synthesize ``script`` (into a temporary folder) and caption it on the output timeline.

    Raises ``InvalidJob`` with the failing field for bad values (pace, start, duration, voice,
    script), ``NarrationTooLong`` (``overflowSec``) when the voice cannot end in the slot, and
    ``NarrationError`` (``narration_unavailable``) when the engine cannot speak.
    """
    parse_script(script)  # empty or wordless scripts get their own codes before the model's
    audio = _validated(
        Audio,
        {
            "speechPace": pace,
            "voiceStartSec": voice_start_sec,
            "narration": {"script": script},
            "narrationEngine": engine,
            "voice": voice,
        },
        "audio",
    )
    output = _validated(
        Output, {"durationSec": duration_sec, "durationMode": duration_mode}, "output"
    )
    if audio.voice_start_sec > output.duration_sec:
        raise InvalidJob(
            "audio.voiceStartSec: must not exceed output.durationSec", field="audio.voiceStartSec"
        )
    with tempfile.TemporaryDirectory(prefix="captions-", dir=work_dir) as folder:
        track = narrate(audio, output, settings, Path(folder))
    assert track is not None  # the audio has a script
    return CaptionTrack(
        cues=cues_for_track(track, rules),
        pace=track.pace,
        voice_start_ms=track.voice_start_ms,
        voice_end_ms=track.end_ms,
        slot_ms=track.slot_ms,
    )


def caption_cues(
    script: str,
    *,
    settings: Settings,
    pace: float = 1.0,
    voice_start_sec: float = 0.5,
    duration_sec: float = 15.0,
    engine: str = "local",
    voice: str | None = None,
    duration_mode: str = "trim-pad",
) -> list[dict[str, Any]]:
    """The API's call: cue dicts ``{startSec, endSec, text, words}`` for a script."""
    return script_captions(
        script,
        settings=settings,
        pace=pace,
        voice_start_sec=voice_start_sec,
        duration_sec=duration_sec,
        engine=engine,
        voice=voice,
        duration_mode=duration_mode,
    ).cue_dicts()
