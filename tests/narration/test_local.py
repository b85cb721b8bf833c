"""The local engine (eSpeak NG by ctypes) speaks, and its word timings sit on the voice.

Everything here is measured in the written WAV with the tests' own RMS envelope.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from compositor.errors import InvalidJob
from compositor.narration import local, synthesize_script
from compositor.narration.espeak import library_candidates
from compositor.narration.timing import Narration
from compositor.settings import Settings
from tests.mediatools import rms_db
from tests.narration.measure import (
    first_sound_ms,
    last_sound_ms,
    level_db,
    median_pitch_hz,
    onsets_after_pauses,
    read_wav,
)

SCRIPT = (
    "Fresh bread from our ovens, every single morning. "
    "Stop by the bakery on Main Street. "
    "Open from seven until late! "
    "Your neighbours already know the secret."
)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Narration:
    path = tmp_path_factory.mktemp("local") / "narration.wav"
    return synthesize_script(SCRIPT, voice="en-us", settings=Settings(), path=path)


def test_local_engine_writes_real_speech(spoken):
    samples, rate = read_wav(spoken.path)
    assert rate == spoken.sample_rate == 22050
    assert rms_db(samples) > -30  # speech, not silence
    seconds = len(samples) / rate
    assert seconds == pytest.approx(spoken.duration_sec, abs=0.01)
    words_per_sec = len(spoken.words) / seconds
    assert 1.5 < words_per_sec < 4.5  # eSpeak speaks 175 words a minute (~2.9/s) plus pauses


def test_words_are_the_script_words_in_order(spoken):
    assert [w.text for w in spoken.words] == SCRIPT.split()
    assert [s.text for s in spoken.sentences] == [
        "Fresh bread from our ovens, every single morning.",
        "Stop by the bakery on Main Street.",
        "Open from seven until late!",
        "Your neighbours already know the secret.",
    ]


def test_word_timings_are_monotonic_and_inside_the_audio(spoken):
    previous_end = 0
    for word in spoken.words:
        assert previous_end <= word.start_ms < word.end_ms <= spoken.duration_ms
        previous_end = word.end_ms
    assert spoken.speech_ms == spoken.words[-1].end_ms


def test_first_word_starts_at_the_measured_onset(spoken):
    samples, rate = read_wav(spoken.path)
    assert abs(spoken.words[0].start_ms - first_sound_ms(samples, rate)) <= 100
    assert abs(spoken.words[-1].end_ms - last_sound_ms(samples, rate)) <= 100


def test_sentences_start_where_the_voice_resumes_after_a_pause(spoken):
    samples, rate = read_wav(spoken.path)
    onsets = onsets_after_pauses(samples, rate, min_pause_ms=150)
    for sentence in spoken.sentences[1:]:
        nearest = min(onsets, key=lambda at: abs(at - sentence.start_ms))
        assert abs(nearest - sentence.start_ms) <= 100, (sentence.text, onsets)


def test_words_are_loud_and_the_pauses_between_sentences_are_quiet(spoken):
    samples, rate = read_wav(spoken.path)
    for word in spoken.words:
        assert level_db(samples, rate, word.start_ms, word.end_ms) > -35, word
    for before, after in zip(spoken.sentences, spoken.sentences[1:], strict=False):
        assert after.start_ms - before.end_ms >= 150  # a real pause was found...
        assert level_db(samples, rate, before.end_ms + 20, after.start_ms - 20) < -50  # ...silent


def test_a_female_variant_speaks_higher(tmp_path):
    settings = Settings()
    male = synthesize_script(SCRIPT, voice="en-us", settings=settings, path=tmp_path / "m.wav")
    female = synthesize_script(SCRIPT, voice="en-us+f3", settings=settings, path=tmp_path / "f.wav")
    male_hz = median_pitch_hz(*read_wav(male.path))
    female_hz = median_pitch_hz(*read_wav(female.path))
    assert female_hz > male_hz * 1.3, (male_hz, female_hz)
    assert female.voice == "en-us+f3"


def test_synthesis_is_deterministic(tmp_path, spoken):
    again = synthesize_script(SCRIPT, voice="en-us", settings=Settings(), path=tmp_path / "a.wav")
    assert again.words == spoken.words
    assert again.path.read_bytes() == spoken.path.read_bytes()


def test_concurrent_syntheses_are_serialized_and_identical(tmp_path, spoken):
    """eSpeak has global state: without the lock two threads would mix their audio."""
    results: dict[int, Narration] = {}

    def speak(index: int) -> None:
        results[index] = synthesize_script(
            SCRIPT, voice="en-us", settings=Settings(), path=tmp_path / f"{index}.wav"
        )

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results.values():
        assert result.words == spoken.words
        assert result.path.read_bytes() == spoken.path.read_bytes()


def test_numbers_and_emoji_are_timed_on_their_words(tmp_path):
    narration = synthesize_script(
        "Since 2024, 1,500 loaves 🍞 sold.",
        voice="en-us",
        settings=Settings(),
        path=tmp_path / "n.wav",
    )
    assert [w.text for w in narration.words] == ["Since", "2024,", "1,500", "loaves 🍞", "sold."]
    durations = [w.end_ms - w.start_ms for w in narration.words]
    # "twenty twenty-four" and "one thousand five hundred" take longer than "since".
    assert durations[1] > durations[0] and durations[2] > durations[0]


@pytest.mark.parametrize(
    ("name", "engine_voice"),
    [("en-us", "en-us"), ("EN-GB", "en-gb-x-rp"), ("en-us+f3", "en-us+f3"), ("fr+m2", "fr+m2")],
)
def test_friendly_voice_names_map_to_espeak_voices(name, engine_voice):
    assert local.espeak_voice(name) == engine_voice


@pytest.mark.parametrize("name", ["klingon", "en-us+bogus", "en-zz", "en-us+f9", "", "../etc"])
def test_unknown_voices_are_refused_with_the_field(tmp_path, name):
    with pytest.raises(InvalidJob) as caught:
        synthesize_script("Hello there.", voice=name, settings=Settings(), path=tmp_path / "x.wav")
    assert caught.value.code == "narration_voice_unknown"
    assert caught.value.field == "audio.voice"


def test_the_wheel_library_comes_first_and_an_override_replaces_it(tmp_path):
    candidates = library_candidates(None, None)
    assert candidates and "espeakng_loader" in candidates[0][0]
    assert Path(candidates[0][1] or "").joinpath("phontab").is_file()
    override = library_candidates("/opt/lib/libespeak-ng.so.1", tmp_path)
    assert override == [("/opt/lib/libespeak-ng.so.1", str(tmp_path))]


def test_a_missing_library_makes_local_unavailable():
    settings = Settings(espeak_library="/nonexistent/libespeak-ng.so")
    assert local.available(settings) is False
    assert local.available(Settings()) is True


def test_stopping_at_a_limit_estimates_the_whole_length(tmp_path, spoken):
    long_script = " ".join([SCRIPT] * 10)
    cut = synthesize_script(
        long_script, voice="en-us", settings=Settings(), path=tmp_path / "cut.wav", max_ms=3000
    )
    assert not cut.complete and cut.words == ()
    samples, rate = read_wav(cut.path)
    assert len(samples) / rate < 5  # stopped near the limit, not after the whole script
    whole_ms = spoken.duration_ms * 10  # ten copies, roughly, plus nine sentence pauses
    assert 0.7 * whole_ms < cut.speech_ms < 1.3 * whole_ms
    assert np.isfinite(cut.speech_ms)
