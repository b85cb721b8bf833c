"""Captions from a script, checked against the narration as it is really heard.

The narration is played the way the mix will play it (FFmpeg: delayed to ``voiceStartSec``,
stretched by rubberband to ``speechPace``, pitch shifted), and the cues are compared with
where the voice is in that audio.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from compositor.captions import caption_cues, script_captions
from compositor.captions.cues import CueRules
from compositor.errors import InvalidJob, NarrationError, NarrationTooLong
from compositor.job import Captions
from compositor.narration import synthesize_script
from compositor.narration.script import Break
from compositor.settings import Settings
from tests.mediatools import ffmpeg
from tests.narration.conftest import premium_settings
from tests.narration.measure import first_sound_ms, level_db, onsets_after_pauses, read_wav

SCRIPT = (
    "Fresh bread from our ovens, every single morning. Stop by the bakery on Main Street, "
    "right next to the old clock tower. Open from seven until late! Your neighbours already "
    "know the secret: real butter, slow dough, and a lot of love."
)
RULES = CueRules()


def heard(narration_wav: Path, out: Path, *, start_sec: float, pace: float) -> Path:
    """The narration as the mix plays it: stretched and pitch shifted up 3 semitones, then
    delayed (in that order: a delay before the stretch would be stretched too)."""
    ffmpeg(
        "-i",
        str(narration_wav),
        "-af",
        f"rubberband=tempo={pace}:pitch={2 ** (3 / 12)},adelay={round(start_sec * 1000)}:all=1,"
        "aresample=48000",
        "-ac",
        "1",
        str(out),
    )
    return out


@pytest.mark.parametrize(("pace", "start"), [(1.0, 0.5), (1.3, 1.2), (0.8, 0.0)])
def test_cues_start_when_their_first_word_is_heard(tmp_path, pace, start):
    settings = Settings()
    track = script_captions(
        SCRIPT, settings=settings, pace=pace, voice_start_sec=start, duration_sec=40
    )
    raw = synthesize_script(SCRIPT, voice=None, settings=settings, path=tmp_path / "raw.wav")
    samples, rate = read_wav(heard(raw.path, tmp_path / "heard.wav", start_sec=start, pace=pace))
    cues = track.cues
    # The first cue appears when the voice starts.
    assert abs(cues[0].start_ms - first_sound_ms(samples, rate)) <= 100
    # Every cue that follows a pause starts within 100 ms of where the voice resumes.
    onsets = onsets_after_pauses(samples, rate, min_pause_ms=100)
    after_pause = [c for c in cues[1:] if _previous_word(cues, c).brk != Break.NONE]
    assert len(after_pause) >= 3
    for cue in after_pause:
        nearest = min(onsets, key=lambda at: abs(at - cue.start_ms))
        assert abs(nearest - cue.start_ms) <= 100, (cue.text, cue.start_ms, nearest)
    # And whatever the cue, the voice is speaking while it is on screen.
    for cue in cues:
        assert level_db(samples, rate, cue.start_ms, cue.start_ms + 300) > -40, cue.text


def _previous_word(cues, cue):
    index = cues.index(cue)
    return cues[index - 1].words[-1]


def test_cue_dicts_are_valid_job_captions_and_follow_the_rules():
    cues = caption_cues(SCRIPT, settings=Settings(), pace=1.1, voice_start_sec=0.5, duration_sec=30)
    parsed = Captions.model_validate({"cues": cues, "style": "karaoke"})
    assert len(parsed.cues) == len(cues) >= 4
    previous_end = 0.0
    for cue in parsed.cues:
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)
        assert 0.7 <= round(cue.end_sec - cue.start_sec, 3) <= 6.0
        assert previous_end <= cue.start_sec and cue.end_sec <= 30
        assert cue.words and cue.words[0].start_sec == cue.start_sec
        assert " ".join(w.text for w in cue.words) == cue.text.replace("\n", " ")
        previous_end = cue.end_sec
    assert " ".join(c.text.replace("\n", " ") for c in parsed.cues) == SCRIPT


def test_the_same_inputs_give_the_same_cues(tmp_path):
    settings = Settings()
    first = caption_cues(SCRIPT, settings=settings, pace=1.2, voice_start_sec=0.7)
    synthesize_script(
        "Something else first, in another voice.",
        voice="en-gb+f2",
        settings=settings,
        path=tmp_path / "other.wav",
    )
    assert caption_cues(SCRIPT, settings=settings, pace=1.2, voice_start_sec=0.7) == first


def test_a_script_too_long_for_the_slot_fails_with_its_overflow():
    with pytest.raises(NarrationTooLong) as caught:
        caption_cues(SCRIPT, settings=Settings(), duration_sec=10)
    assert caught.value.field == "audio.narration.script"
    assert caught.value.overflow_sec > 0


def test_fit_raises_the_pace_and_keeps_every_cue_in_the_slot():
    settings = Settings()
    natural = script_captions(SCRIPT, settings=settings, duration_sec=40)
    slot_sec = 0.5 + (natural.voice_end_ms - 500) / 1000 / 1.15  # needs 1.15x
    track = script_captions(SCRIPT, settings=settings, duration_sec=slot_sec, duration_mode="fit")
    assert track.pace == pytest.approx(1.15, abs=0.005)
    assert track.cues[-1].end_ms <= track.slot_ms
    assert track.voice_end_ms <= track.slot_ms


def test_premium_captions_start_on_their_sentences(speech_server, tmp_path):
    server = speech_server(mode="espeak")
    settings = premium_settings(server)
    track = script_captions(
        SCRIPT, settings=settings, engine="premium", duration_sec=40, voice_start_sec=0.0
    )
    raw = synthesize_script(
        SCRIPT, engine="premium", voice=None, settings=settings, path=tmp_path / "raw.wav"
    )
    samples, rate = read_wav(raw.path)
    onsets = [0, *onsets_after_pauses(samples, rate, min_pause_ms=200)]
    sentence_starts = [
        c
        for c in track.cues
        if c is track.cues[0] or _previous_word(track.cues, c).brk == Break.SENTENCE
    ]
    assert len(sentence_starts) >= 3
    for cue in sentence_starts:
        assert min(abs(at - cue.start_ms) for at in onsets) <= 100, cue.text


BAD = [
    ({"script": ""}, "narration_script_empty", "audio.narration.script"),
    ({"script": "🍞 🎉 ✨ !!!"}, "narration_script_unspeakable", "audio.narration.script"),
    ({"pace": math.nan}, "invalid_field", "audio.speechPace"),
    ({"pace": 2.5}, "invalid_field", "audio.speechPace"),
    ({"pace": 0.49}, "invalid_field", "audio.speechPace"),
    ({"voice_start_sec": math.inf}, "invalid_field", "audio.voiceStartSec"),
    ({"voice_start_sec": 16}, "invalid_field", "audio.voiceStartSec"),
    ({"duration_sec": math.nan}, "invalid_field", "output.durationSec"),
    ({"duration_sec": 0}, "invalid_field", "output.durationSec"),
    ({"duration_mode": "stretch"}, "invalid_field", "output.durationMode"),
    ({"engine": "cloud"}, "invalid_field", "audio.narrationEngine"),
    ({"voice": "xx-klingon"}, "narration_voice_unknown", "audio.voice"),
    ({"script": "word " * 4001}, "invalid_field", "audio.narration.script"),
]


@pytest.mark.parametrize(("change", "code", "field"), BAD)
def test_bad_input_is_refused_with_its_code_and_field(change, code, field):
    arguments = {"script": "Fresh bread every day.", **change}
    script = arguments.pop("script")
    with pytest.raises(InvalidJob) as caught:
        caption_cues(script, settings=Settings(), **arguments)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_premium_captions_without_a_server_are_narration_unavailable():
    with pytest.raises(NarrationError) as caught:
        caption_cues("Fresh bread.", settings=Settings(), engine="premium")
    assert caught.value.code == "narration_unavailable"
