"""Renders of generated media, checked by probing the file and sampling pixels and audio."""

from __future__ import annotations

import numpy as np
import pytest

from compositor.errors import DurationOutOfTolerance
from tests.mediatools import (
    audio_samples,
    frame_at,
    frame_count,
    mean_rgb,
    moov_before_mdat,
    rms_db,
    stream_durations,
    video_info,
)

RED = np.array([255, 0, 0])
BLUE = np.array([0, 0, 255])


def close(colour: np.ndarray, expected: np.ndarray, tolerance: float = 40) -> bool:
    return bool(np.all(np.abs(colour - expected) < tolerance))


def test_output_is_h264_high_aac_48k_stereo_faststart_at_preview_size(render_job, media):
    result = render_job(clips=[{"source": media.red.name}], output={"durationSec": 2})
    info = video_info(result.path)
    assert info["codec"] == "h264" and info["profile"] == "High" and info["pix_fmt"] == "yuv420p"
    assert (info["width"], info["height"]) == (960, 540)
    assert info["fps"] == 30
    assert (info["audio_codec"], info["sample_rate"], info["channels"]) == ("aac", 48000, 2)
    assert info["audio_profile"] == "LC"
    assert moov_before_mdat(result.path)
    assert result.poster_path.stat().st_size > 0


def test_cut_joins_red_then_blue_at_the_planned_frame(render_job, media):
    result = render_job(
        clips=[{"source": media.red.name}, {"source": media.blue.name}],
        output={"durationSec": 4},
    )
    assert close(mean_rgb(frame_at(result.path, 1.0)), RED)
    assert close(mean_rgb(frame_at(result.path, 59 / 30)), RED)
    assert close(mean_rgb(frame_at(result.path, 60 / 30)), BLUE)
    assert frame_count(result.path) == 120


def test_fade_middle_frame_is_a_blend_of_both_clips(render_job, media):
    result = render_job(
        clips=[{"source": media.red.name}, {"source": media.blue.name}],
        transition={"type": "fade", "durationSec": 1.0},
        output={"durationSec": 3},
    )
    # The fade spans 1.0-2.0 s on the stitched timeline; its middle is purple.
    middle = mean_rgb(frame_at(result.path, 1.5))
    assert 90 < middle[0] < 170 and 90 < middle[2] < 170, middle
    assert close(mean_rgb(frame_at(result.path, 0.5)), RED)
    assert close(mean_rgb(frame_at(result.path, 2.5)), BLUE)


def test_fade_shortens_the_total_by_one_fade_per_join(render_job, media):
    clips = [{"source": media.red.name}, {"source": media.blue.name}, {"source": media.green.name}]
    result = render_job(
        clips=clips,
        transition={"type": "fade", "durationSec": 0.5},
        # 3 x 2 s - 2 x 0.5 s = 5 s of content: the slot is met with no padding at all.
        output={"durationSec": 5},
    )
    # Content ends exactly at the slot: the last frames are green, not a held frame of padding.
    assert close(mean_rgb(frame_at(result.path, 4.95)), np.array([0, 128, 0]))
    assert frame_count(result.path) == 150


@pytest.mark.parametrize("slot", [5, 15, 30])
@pytest.mark.parametrize("content", ["shorter", "longer"])
@pytest.mark.parametrize("transition", ["cut", "fade"])
def test_every_slot_lands_within_tolerance(render_job, media, slot, content, transition):
    if content == "shorter":
        clips = [{"source": media.red.name}, {"source": media.blue.name}]
    else:  # 4 x 9 s = 36 s, longer than every slot
        clips = [{"source": media.red_long.name}, {"source": media.blue_long.name}] * 2
    result = render_job(
        clips=clips,
        transition={"type": transition, "durationSec": 0.5},
        output={"durationSec": slot, "toleranceSec": 0.1},
    )
    video_sec, audio_sec = stream_durations(result.path)
    assert abs(video_sec - slot) <= 0.1
    assert abs(audio_sec - video_sec) < 1 / 30
    assert result.verification.duration_error_sec <= 0.1


def test_shorter_content_holds_its_last_frame_and_pads_silence(render_job, media):
    result = render_job(clips=[{"source": media.red.name}], output={"durationSec": 4})
    assert close(mean_rgb(frame_at(result.path, 3.9)), RED)
    samples = audio_samples(result.path)
    assert rms_db(samples[48000 * 0 : 48000 * 1]) > -40  # the tone plays at first
    assert rms_db(samples[int(48000 * 2.2) : 48000 * 4]) < -80  # silence after the content


def test_longer_content_is_cut_with_a_short_fade_out(render_job, media):
    result = render_job(
        clips=[{"source": media.red_long.name}],
        output={"durationSec": 3},
        audio={"nativeVolume": 1.0},
    )
    samples = audio_samples(result.path)
    assert rms_db(samples[48000 : 48000 * 2]) > -30  # lavfi sine: amplitude 1/8, -21 dBFS
    assert rms_db(samples[-480:]) < rms_db(samples[48000 : 48000 * 2]) - 20  # faded at the cut


def test_fit_mode_speeds_content_up_to_fill_the_slot(render_job, media):
    # 2 clips of 9 s = 18 s into 16 s: a 1.125x speed-up, within the ±15 % fit allows.
    result = render_job(
        clips=[{"source": media.red_long.name}, {"source": media.blue_long.name}],
        output={"durationSec": 16, "durationMode": "fit"},
    )
    # At 1.125x the join (9 s of content) lands at 8 s of output.
    assert close(mean_rgb(frame_at(result.path, 7.9)), RED)
    assert close(mean_rgb(frame_at(result.path, 8.1)), BLUE)
    assert abs(stream_durations(result.path)[0] - 16) <= 0.1


def test_rotation_metadata_is_honoured(render_job, media):
    # Source: red left half, blue right half, flagged to display rotated by 90°. Upright, the
    # halves become top and bottom: the output is split horizontally, not vertically.
    result = render_job(
        clips=[{"source": media.rotated.name}],
        output={"aspect": "9:16", "durationSec": 2, "fit": "contain"},
    )
    frame = frame_at(result.path, 1.0)
    top, bottom = mean_rgb(frame, (0.2, 0.1, 0.8, 0.4)), mean_rgb(frame, (0.2, 0.6, 0.8, 0.9))
    left, right = mean_rgb(frame, (0, 0.3, 0.4, 0.7)), mean_rgb(frame, (0.6, 0.3, 1, 0.7))
    assert not close(top, bottom, 60)
    assert {tuple(close(c, RED, 60) for c in (top, bottom))} == {(True, False)} or {
        tuple(close(c, BLUE, 60) for c in (top, bottom))
    } == {(True, False)}
    assert close(left, right, 60)  # no left/right split survives


def test_variable_frame_rate_becomes_constant_30_fps_of_the_right_length(render_job, media):
    result = render_job(clips=[{"source": media.vfr.name}], output={"durationSec": 2})
    assert frame_count(result.path) == 60
    with __import__("av").open(str(result.path)) as container:
        times = [p.pts for p in container.demux(video=0) if p.size]
        steps = np.diff(sorted(times))
        assert len(set(steps.tolist())) == 1  # evenly spaced: CFR


def test_high_frame_rate_10_bit_and_odd_sizes_normalize(render_job, media):
    result = render_job(
        clips=[
            {"source": media.fps60.name},
            {"source": media.tenbit.name},
            {"source": media.odd.name},
        ],
        output={"durationSec": 6},
    )
    info = video_info(result.path)
    assert (info["pix_fmt"], info["width"], info["height"], info["fps"]) == (
        "yuv420p", 960, 540, 30
    )  # fmt: skip
    assert frame_count(result.path) == 180


def test_still_image_is_a_clip_of_the_given_length(render_job, media):
    result = render_job(
        clips=[
            {"source": media.still_png.name, "outSec": 1.5},
            {"source": media.still_jpg.name, "outSec": 1.5},
        ],
        output={"durationSec": 3},
    )
    assert close(mean_rgb(frame_at(result.path, 0.7)), np.array([0, 128, 0]))
    assert close(mean_rgb(frame_at(result.path, 2.2)), np.array([255, 255, 255]))
    assert frame_count(result.path) == 90


def test_clip_without_audio_gets_silence_and_keeps_sync(render_job, media):
    result = render_job(
        clips=[{"source": media.silent.name}, {"source": media.red.name}],
        output={"durationSec": 4},
        audio={"nativeVolume": 1.0},
    )
    samples = audio_samples(result.path)
    assert rms_db(samples[: int(48000 * 1.9)]) < -80
    # The red clip's tone starts exactly at its join (2.0 s), within a frame.
    envelope_start = np.argmax(np.abs(samples) > 0.05) / 48000
    assert abs(envelope_start - 2.0) < 1 / 30


def test_native_volume_scales_clip_audio(render_job, media):
    # Loudness normalization off: it would bring both to the same level.
    loud = render_job("loud.mp4", clips=[{"source": media.red.name}], output={"durationSec": 2},
                      audio={"nativeVolume": 1.0, "loudnessLufs": None})  # fmt: skip
    quiet = render_job("quiet.mp4", clips=[{"source": media.red.name}], output={"durationSec": 2},
                       audio={"nativeVolume": 0.25, "loudnessLufs": None})  # fmt: skip
    difference = rms_db(audio_samples(loud.path)) - rms_db(audio_samples(quiet.path))
    assert abs(difference - 20 * np.log10(4)) < 1.0


def test_audio_and_video_stay_in_sync_across_many_joins(render_job, media):
    clips = [
        {"source": media.red.name, "outSec": 1.37},
        {"source": media.blue.name, "outSec": 1.23},
    ]
    result = render_job(clips=clips * 4, transition={"type": "fade", "durationSec": 0.3},
                        output={"durationSec": 8})  # fmt: skip
    video_sec, audio_sec = stream_durations(result.path)
    assert abs(video_sec - audio_sec) < 1 / 30
    assert result.verification.audio_video_gap_sec < 1 / 30


def test_in_and_out_points_select_the_range(render_job, media):
    result = render_job(clips=[{"source": media.testsrc.name, "inSec": 1.0, "outSec": 2.5}],
                        output={"durationSec": 1.5})  # fmt: skip
    assert frame_count(result.path) == 45


def test_cover_contain_and_blur_fill_the_frame_differently(render_job, media):
    clips = [{"source": media.still_jpg.name, "outSec": 1}]  # white, portrait 300x400
    cover = frame_at(render_job("c.mp4", clips=clips, output={"durationSec": 1}).path, 0.5)
    contain = frame_at(
        render_job("n.mp4", clips=clips, output={"durationSec": 1, "fit": "contain"}).path, 0.5
    )
    blur = frame_at(
        render_job("b.mp4", clips=clips, output={"durationSec": 1, "fit": "blur"}).path, 0.5
    )
    side = (0.0, 0.3, 0.1, 0.7)
    assert mean_rgb(cover, side).mean() > 230  # cover fills the sides with the image
    assert mean_rgb(contain, side).mean() < 20  # contain letterboxes them black
    assert mean_rgb(blur, side).mean() > 150  # blur fills them with the blurred image
    assert mean_rgb(contain, (0.45, 0.3, 0.55, 0.7)).mean() > 230


def test_duration_outside_tolerance_fails_and_publishes_nothing(render_job, media, monkeypatch,
                                                                tmp_path):  # fmt: skip
    import compositor.render as render_module

    real = render_module.verify_output

    def strict(path, **kwargs):
        kwargs["target_sec"] += 0.5  # as if FFmpeg had written a file 0.5 s short
        return real(path, **kwargs)

    monkeypatch.setattr(render_module, "verify_output", strict)
    with pytest.raises(DurationOutOfTolerance) as caught:
        render_job("missed.mp4", clips=[{"source": media.red.name}], output={"durationSec": 2})
    assert caught.value.code == "duration_out_of_tolerance"
    assert not (tmp_path / "missed.mp4").exists()
    assert not list(tmp_path.glob(".render-*"))


def test_fast_path_stream_copies_ready_clips(render_job, media):
    result = render_job(
        clips=[{"source": media.ready.name}, {"source": media.ready_b.name}],
        output={"durationSec": 6},
        audio={"nativeVolume": 1.0, "loudnessLufs": None},
    )
    assert result.fast_path
    video_sec, audio_sec = stream_durations(result.path)
    assert abs(video_sec - 6) <= 0.1 and abs(audio_sec - video_sec) < 1 / 30
    assert close(mean_rgb(frame_at(result.path, 1.0)), np.array([0, 0, 128]))
    assert close(mean_rgb(frame_at(result.path, 4.0)), np.array([0, 128, 128]))
    assert moov_before_mdat(result.path)


def test_fast_path_is_not_taken_when_anything_changes_the_picture(render_job, media):
    result = render_job(
        clips=[{"source": media.ready.name}, {"source": media.ready_b.name}],
        output={"durationSec": 6},
        audio={"nativeVolume": 1.0, "loudnessLufs": None},
        watermark={"text": "NearIQ"},
    )
    assert not result.fast_path


@pytest.mark.slow
def test_full_size_vertical_render(tmp_path, settings, media):
    from compositor.job import parse_job
    from compositor.render import render
    from compositor.sources import LocalResolver

    job = parse_job({
        "output": {"aspect": "9:16", "durationSec": 5},
        "clips": [{"source": media.testsrc.name}, {"source": media.red.name}],
        "transition": {"type": "fade", "durationSec": 0.5},
        "captions": {"cues": [{"startSec": 0.5, "endSec": 3, "text": "Full size 1080x1920"}]},
        "watermark": {"text": "NearIQ"},
    })  # fmt: skip
    result = render(job, tmp_path / "full.mp4", settings=settings,
                    resolver=LocalResolver(media.root, settings.assets_dir))  # fmt: skip
    info = video_info(result.path)
    assert (info["width"], info["height"], info["profile"]) == (1080, 1920, "High")
    assert abs(stream_durations(result.path)[0] - 5) <= 0.1
