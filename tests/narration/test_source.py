"""A recording as narration: decoded, trimmed to the voice; anything else is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compositor.errors import NarrationTooLong, SourceUnavailable
from compositor.narration import narrate
from compositor.settings import Settings
from compositor.sources import LocalResolver
from tests.conftest import make_job
from tests.mediatools import ffmpeg
from tests.narration.measure import first_sound_ms, read_wav


def job_with_source(source: str, **audio: object):
    return make_job(
        clips=[{"source": "clip.mp4"}],
        audio={"narration": {"source": source}, "voiceStartSec": 1.0, **audio},
    )


def run(tmp_path: Path, source: str, **audio: object):
    job = job_with_source(source, **audio)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    resolver = LocalResolver(tmp_path, Settings().assets_dir)
    return narrate(job.audio, job.output, Settings(), work, resolver=resolver)


def test_a_recording_is_decoded_and_its_leading_silence_trimmed(tmp_path):
    # 0.7 s of silence, then 1.5 s of a 300 Hz "voice", then 0.5 s of silence, in AAC.
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=f=300:r=44100:d=1.5,adelay=700:all=1,apad=pad_dur=0.5",
        "-c:a",
        "aac",
        "-ac",
        "2",
        str(tmp_path / "voice.m4a"),
    )
    track = run(tmp_path, "voice.m4a")
    assert track is not None and track.narration.engine == "source"
    samples, rate = read_wav(track.narration.path)
    assert rate == 44100
    assert first_sound_ms(samples, rate) <= 20  # the voice now starts at the file's start
    assert track.narration.duration_ms == pytest.approx(1500, abs=60)
    assert track.narration.words == ()
    assert track.pace == 1.0 and track.voice_start_ms == 1000


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("notes.mp3", lambda p: p.write_text("this is not audio\n")),
        ("empty.wav", lambda p: p.write_bytes(b"")),
        (
            "still.png",
            lambda p: ffmpeg("-f", "lavfi", "-i", "color=red:s=32x32", "-frames:v", "1", str(p)),
        ),
        (
            "mute.mp4",
            lambda p: ffmpeg(
                "-f",
                "lavfi",
                "-i",
                "color=red:s=32x32:d=1",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                str(p),
            ),
        ),
        (
            "silent.wav",
            lambda p: ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "1", str(p)),
        ),
    ],
)
def test_a_source_that_is_not_audio_is_refused(tmp_path, name, make):
    make(tmp_path / name)
    with pytest.raises(SourceUnavailable) as caught:
        run(tmp_path, name)
    assert caught.value.code == "narration_source_not_audio"
    assert caught.value.field == "audio.narration.source"


def test_a_missing_source_is_not_found(tmp_path):
    with pytest.raises(SourceUnavailable) as caught:
        run(tmp_path, "nowhere.wav")
    assert caught.value.field == "audio.narration.source"
    assert caught.value.code == "source_not_found"


def test_a_recording_longer_than_the_slot_fails_with_its_overflow(tmp_path):
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:r=16000:d=20", str(tmp_path / "long.wav"))
    with pytest.raises(NarrationTooLong) as caught:
        run(tmp_path, "long.wav")  # 5 s slot, voice at 1.0 s: 16 s too long
    assert caught.value.field == "audio.narration.source"
    assert caught.value.overflow_sec == pytest.approx(16.0, abs=0.05)
    assert "about" not in caught.value.message  # a recording's length is known, not estimated
    assert np.isfinite(caught.value.overflow_sec)
