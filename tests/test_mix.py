"""The audio mix, measured on the rendered file: voice placement, pace, pitch, volumes,
ducking, music looping and fades, loudness, and captions against the voice."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from compositor.errors import SourceUnavailable
from tests.mediatools import (
    FFMPEG,
    audio_samples,
    dominant_frequency,
    ffmpeg,
    rms_db,
    rms_envelope,
    stream_durations,
)

RATE = 48000
SILENT_CLIPS = [{"source": "silent.mp4"}, {"source": "silent.mp4"}]  # 2 x 2 s, no audio


@pytest.fixture(scope="module")
def tones(media):
    """A sine 'voice' (440 Hz, 1.5 s), music (220 Hz, 1.5 s: shorter than the slots, so it
    loops), a too-short music file, and a bed longer than the slot (no loop seam to measure)."""
    root = media.root
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:r=48000:d=1.5", "-c:a", "pcm_s16le",
           str(root / "voice.wav"))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:r=48000:d=1.5", "-c:a", "aac",
           str(root / "music.m4a"))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:r=48000:d=0.5", "-c:a", "aac",
           str(root / "short_music.m4a"))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:r=48000:d=5", "-c:a", "aac",
           str(root / "bed.m4a"))  # fmt: skip
    return root


def onset(samples: np.ndarray, threshold_db: float = -40, start: float = 0.0) -> float:
    envelope = rms_envelope(samples[int(start * RATE) :], RATE, 0.005)
    return start + int(np.argmax(envelope > threshold_db)) * 0.005


def offset(samples: np.ndarray, threshold_db: float = -40) -> float:
    envelope = rms_envelope(samples, RATE, 0.005)
    loud = np.where(envelope > threshold_db)[0]
    return (loud[-1] + 1) * 0.005


def band_db(samples: np.ndarray, start: float, end: float, freq: float) -> float:
    """Level of one frequency band (±15 Hz) in a stretch of the mix."""
    chunk = samples[int(start * RATE) : int(end * RATE)]
    window = np.hanning(len(chunk))
    # Scaled by the window's sum: stretches of different lengths compare as amplitudes.
    spectrum = np.abs(np.fft.rfft(chunk * window)) / window.sum()
    freqs = np.fft.rfftfreq(len(chunk), 1 / RATE)
    band = spectrum[(freqs > freq - 15) & (freqs < freq + 15)]
    return 20 * np.log10(max(float(np.sqrt(np.mean(band**2))), 1e-12))


def voice_job(render_job, name: str = "v.mp4", **audio):
    return render_job(
        name,
        clips=SILENT_CLIPS,
        output={"durationSec": 4},
        audio={"narration": {"source": "voice.wav"}, "loudnessLufs": None, **audio},
    )


def test_voice_starts_at_voice_start_sec(render_job, tones):
    for start in (0.5, 1.3):
        samples = audio_samples(voice_job(render_job, f"s{start}.mp4", voiceStartSec=start).path)
        assert abs(onset(samples) - start) <= 0.05


def test_pace_shortens_the_narration(render_job, tones):
    normal = audio_samples(voice_job(render_job, "p1.mp4", voiceStartSec=0.5).path)
    fast = audio_samples(voice_job(render_job, "p15.mp4", voiceStartSec=0.5, speechPace=1.5).path)
    normal_len = offset(normal) - onset(normal)
    fast_len = offset(fast) - onset(fast)
    assert abs(fast_len - normal_len / 1.5) <= 0.05 * normal_len / 1.5
    assert abs(onset(fast) - 0.5) <= 0.05  # the stretch does not move the start


@pytest.mark.parametrize(("semitones", "ratio"), [(12, 2.0), (-12, 0.5), (7, 2 ** (7 / 12))])
def test_pitch_moves_the_dominant_frequency(render_job, tones, semitones, ratio):
    samples = audio_samples(voice_job(render_job, f"pt{semitones}.mp4", pitch=semitones).path)
    voiced = samples[int(0.7 * RATE) : int(1.8 * RATE)]
    assert abs(dominant_frequency(voiced) / (440 * ratio) - 1) <= 0.03


def test_voice_volume_zero_silences_the_voice(render_job, tones):
    samples = audio_samples(voice_job(render_job, "mute.mp4", voiceVolume=0).path)
    assert rms_db(samples) < -80


def test_music_loops_starts_late_and_fades_out_at_the_end(render_job, tones):
    result = render_job(
        clips=SILENT_CLIPS,
        output={"durationSec": 4},
        audio={"music": {"source": "music.m4a"}, "musicStartSec": 0.8, "musicVolume": 1.0,
               "loudnessLufs": None},
    )  # fmt: skip
    samples = audio_samples(result.path)
    assert abs(onset(samples) - 0.8) <= 0.05  # starts at musicStartSec
    assert rms_db(samples[int(2.5 * RATE) : int(2.9 * RATE)]) > -30  # still playing: it looped
    middle = rms_db(samples[int(2.5 * RATE) : int(2.9 * RATE)])
    assert rms_db(samples[int(3.5 * RATE) : int(3.7 * RATE)]) < middle - 3  # fading out
    assert rms_db(samples[-480:]) < middle - 30  # gone at the end


def test_ducking_lowers_music_under_the_voice_and_recovers(render_job, tones):
    result = render_job(
        clips=SILENT_CLIPS,
        output={"durationSec": 4},
        audio={"narration": {"source": "voice.wav"}, "voiceStartSec": 1.0,
               "music": {"source": "bed.m4a"}, "musicVolume": 0.5, "loudnessLufs": None},
    )  # fmt: skip
    samples = audio_samples(result.path)
    # Equal 0.25 s stretches (band levels depend on the stretch length); voice: 1.0-2.5 s.
    before = band_db(samples, 0.5, 0.75, 220)
    under = band_db(samples, 1.6, 1.85, 220)
    after = band_db(samples, 2.75, 3.0, 220)  # 0.25-0.5 s after the voice ends
    assert before - under >= 6
    assert before - after <= 2
    undocked = render_job(
        "nodock.mp4",
        clips=SILENT_CLIPS,
        output={"durationSec": 4},
        audio={"narration": {"source": "voice.wav"}, "voiceStartSec": 1.0, "ducking": False,
               "music": {"source": "bed.m4a"}, "musicVolume": 0.5, "loudnessLufs": None},
    )  # fmt: skip
    plain = audio_samples(undocked.path)
    assert abs(band_db(plain, 0.5, 0.75, 220) - band_db(plain, 1.6, 1.85, 220)) <= 1.0


def ebur128(path) -> tuple[float, float]:
    """Integrated loudness and true peak of a file, measured by FFmpeg independently."""
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = done.stderr[done.stderr.rindex("Summary:") :]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


@pytest.mark.parametrize("target", [-14, -23])
def test_the_mix_lands_on_the_loudness_target(render_job, media, tones, target):
    result = render_job(
        f"loud{target}.mp4",
        clips=[{"source": media.red_long.name}],
        output={"durationSec": 8},
        audio={"narration": {"script": "Coaching, equipment and happy members. Join us today, "
                             "the first week is on us."},
               "music": {"source": "music.m4a"}, "loudnessLufs": target},
    )  # fmt: skip
    integrated, peak = ebur128(result.path)
    assert abs(integrated - target) <= 1.0
    assert peak <= -1.0
    assert abs(result.verification.integrated_lufs - integrated) <= 0.5
    video_sec, audio_sec = stream_durations(result.path)
    assert abs(video_sec - audio_sec) < 1 / 30


def test_narration_captions_start_with_the_voice(render_job, tones):
    """Captions asked for without cues are cued from the narration; each starts with its
    first word as heard."""
    from compositor.job import parse_job
    from compositor.render import prepare
    from compositor.settings import Settings
    from compositor.sources import LocalResolver

    settings = Settings(preset="ultrafast")
    job = parse_job({
        "clips": [{"source": "silent.mp4"}] * 4,
        "output": {"durationSec": 8, "resolution": "preview"},
        "captions": {"style": "karaoke"},
        "audio": {"narration": {"script": "Strong coaching. Better equipment. Happy members."},
                  "voiceStartSec": 1.2, "speechPace": 1.2, "loudnessLufs": None},
    })  # fmt: skip
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as work:
        prepared = prepare(job, LocalResolver(tones, settings.assets_dir), settings, Path(work))
        cues = prepared.job.captions.cues
    assert len(cues) >= 1 and all(cue.words for cue in cues)
    from compositor.render import render

    result = render(job, tones / "cued.mp4", settings=settings,
                    resolver=LocalResolver(tones, settings.assets_dir))  # fmt: skip
    samples = audio_samples(result.path)
    assert abs(cues[0].start_sec - onset(samples)) <= 0.1
    for cue in cues[1:]:  # later cues start where the voice resumes after the cue before
        assert abs(onset(samples, start=cue.start_sec - 0.08) - cue.start_sec) <= 0.1


@pytest.mark.parametrize(
    ("music", "code"),
    [("short_music.m4a", "music_too_short"), ("still.png", "source_not_audio")],
)
def test_unusable_music_is_refused_with_its_field(render_job, tones, music, code):
    with pytest.raises(SourceUnavailable) as caught:
        render_job(clips=SILENT_CLIPS, output={"durationSec": 4},
                   audio={"music": {"source": music}})  # fmt: skip
    assert (caught.value.code, caught.value.field) == (code, "audio.music.source")


def test_a_silent_mix_stays_silent_under_a_loudness_target(render_job, tones):
    result = render_job(clips=SILENT_CLIPS, output={"durationSec": 4})  # default: -14 LUFS
    assert rms_db(audio_samples(result.path)) < -80
    measured = result.verification.integrated_lufs
    assert measured is None or measured <= -69  # ebur128's floor for silence: -70 LUFS
