"""narrate(): what the render pipeline calls. Synthesis, fitting and bad input."""

from __future__ import annotations

import json
import math

import pytest

from compositor.errors import InvalidJob, NarrationTooLong
from compositor.job import parse_job_json
from compositor.narration import narrate, synthesize_script
from compositor.settings import Settings
from tests.conftest import make_job
from tests.narration.measure import read_wav

SCRIPT = "Fresh bread every morning. Stop by the bakery on Main Street today."


def script_job(script: str = SCRIPT, *, output: dict | None = None, **audio: object):
    return make_job(
        clips=[{"source": "clip.mp4"}],
        output=output or {},
        audio={"narration": {"script": script}, **audio},
    )


@pytest.fixture(scope="module")
def raw_ms(tmp_path_factory) -> int:
    path = tmp_path_factory.mktemp("raw") / "raw.wav"
    return synthesize_script(SCRIPT, voice=None, settings=Settings(), path=path).speech_ms


def test_a_job_without_narration_has_no_track(tmp_path):
    job = make_job(clips=[{"source": "clip.mp4"}])
    assert narrate(job.audio, job.output, Settings(), tmp_path) is None


def test_narrate_places_the_words_on_the_output_timeline(tmp_path, raw_ms):
    job = script_job(speechPace=1.25, voiceStartSec=0.8, output={"durationSec": 10})
    track = narrate(job.audio, job.output, Settings(), tmp_path)
    assert track is not None
    assert track.narration.path == tmp_path / "narration.wav" and track.narration.path.exists()
    assert track.pace == 1.25 and track.voice_start_ms == 800 and track.slot_ms == 10_000
    for raw, heard in zip(track.narration.words, track.output_words(), strict=True):
        assert heard.text == raw.text
        assert heard.start_ms == 800 + round(raw.start_ms / 1.25)
        assert heard.end_ms == 800 + round(raw.end_ms / 1.25)
    assert track.end_ms == 800 + round(raw_ms / 1.25)


def test_trim_pad_fails_before_rendering_with_the_exact_overflow(tmp_path, raw_ms):
    slot_ms = 500 + raw_ms - 400  # 0.4 s too short for the narration at pace 1.0
    job = script_job(output={"durationSec": slot_ms / 1000})
    with pytest.raises(NarrationTooLong) as caught:
        narrate(job.audio, job.output, Settings(), tmp_path)
    assert caught.value.overflow_sec == pytest.approx(0.4, abs=0.001)
    assert caught.value.field == "audio.narration.script"
    assert "about" not in caught.value.message


def test_fit_raises_the_pace_just_enough(tmp_path, raw_ms):
    slot_ms = 500 + round(raw_ms / 1.2)  # needs 1.2x
    job = script_job(output={"durationSec": slot_ms / 1000, "durationMode": "fit"})
    track = narrate(job.audio, job.output, Settings(), tmp_path)
    assert track is not None
    assert track.pace == pytest.approx(1.2, abs=0.002)
    assert track.end_ms <= slot_ms


def test_fit_gives_up_past_one_and_a_quarter(tmp_path, raw_ms):
    slot_ms = 500 + round(raw_ms / 1.3)
    job = script_job(output={"durationSec": slot_ms / 1000, "durationMode": "fit"})
    with pytest.raises(NarrationTooLong) as caught:
        narrate(job.audio, job.output, Settings(), tmp_path)
    expected = (500 + raw_ms / 1.25 - slot_ms) / 1000
    assert caught.value.overflow_sec == pytest.approx(expected, abs=0.002)


def test_a_20000_character_script_is_refused_without_speaking_it_all(tmp_path):
    script = ("Fresh bread every morning, baked with care. " * 500)[:20_000]
    job = script_job(script)
    with pytest.raises(NarrationTooLong) as caught:
        narrate(job.audio, job.output, Settings(), tmp_path)
    # About 20 minutes of speech for a 14.5 s window: the estimate is in that range...
    assert 900 < caught.value.overflow_sec < 1800
    assert "about" in caught.value.message
    # ...and synthesis stopped near the window instead of speaking twenty minutes.
    samples, rate = read_wav(tmp_path / "narration.wav")
    assert len(samples) / rate < 20


@pytest.mark.parametrize(
    ("audio", "field"),
    [
        ({"speechPace": 0.3}, "audio.speechPace"),
        ({"speechPace": 2.5}, "audio.speechPace"),
        ({"pitch": 13}, "audio.pitch"),
        ({"pitch": -12.5}, "audio.pitch"),
        ({"voiceStartSec": -1}, "audio.voiceStartSec"),
        ({"narrationEngine": "cloud"}, "audio.narrationEngine"),
        ({"narration": {"script": ""}}, "audio.narration.script"),
    ],
)
def test_out_of_range_audio_values_are_refused_by_the_job(audio, field):
    with pytest.raises(InvalidJob) as caught:
        script_job(**audio)
    assert caught.value.field == field


@pytest.mark.parametrize("name", ["speechPace", "pitch", "voiceStartSec", "voiceVolume"])
def test_nan_audio_values_are_refused_by_the_job(name):
    body = {
        "clips": [{"source": "clip.mp4"}],
        "audio": {"narration": {"script": SCRIPT}, name: math.nan},
    }
    with pytest.raises(InvalidJob) as caught:
        parse_job_json(json.dumps(body))  # json.dumps writes NaN, as a careless client would
    assert caught.value.field == f"audio.{name}"


def test_an_unknown_voice_fails_at_narrate_with_its_field(tmp_path):
    job = script_job(voice="klingon")
    with pytest.raises(InvalidJob) as caught:
        narrate(job.audio, job.output, Settings(), tmp_path)
    assert (caught.value.code, caught.value.field) == ("narration_voice_unknown", "audio.voice")
