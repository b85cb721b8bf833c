"""The render plan is data: these tests read it without running FFmpeg."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from compositor.errors import InvalidJob, SourceUnavailable
from compositor.plan.build import EncodeOptions, build_plan
from compositor.plan.clips import plan_clips
from compositor.plan.copy import copy_blockers
from compositor.plan.geometry import Rect, contain_size, cover_crop
from compositor.probe import AudioInfo, MediaInfo, VideoInfo
from tests.conftest import make_job

MAX_PIXELS = 8192 * 4320


def media(width=1280, height=720, seconds=6.0, *, rotation=0, codec="h264", audio=True,
          fmt="mov,mp4,m4a,3gp,3g2,mj2", fps=30.0, frames=None, profile="High"):  # fmt: skip
    video = VideoInfo(
        codec=codec, profile=profile, pix_fmt="yuv420p", coded_width=width, coded_height=height,
        rotation=rotation, fps=fps, constant_fps=True,
        frames=frames if frames is not None else round(seconds * fps), duration_sec=seconds,
        bit_depth=8,
    )  # fmt: skip
    sound = AudioInfo("aac", 48000, 2, seconds) if audio else None
    return MediaInfo(f"/m/{width}x{height}.mp4", fmt, seconds, 1000, video, sound)


def plan_for(job, medias, **kwargs):
    paths = [m.path for m in medias]
    return build_plan(job, plan_clips(job, paths, medias, max_pixels=MAX_PIXELS), **kwargs)


def graph(plan) -> str:
    return plan.filter_complex


@pytest.mark.parametrize(
    ("src", "out", "rect"),
    [
        ((1280, 720), (1080, 1920), Rect(438, 0, 404, 720)),
        ((1280, 720), (1920, 1080), Rect(0, 0, 1280, 720)),
        ((641, 479), (1080, 1080), Rect(81, 0, 478, 478)),
        ((1080, 1920), (1920, 1080), Rect(0, 656, 1080, 608)),
    ],
)
def test_cover_crop_keeps_the_output_aspect_centred(src, out, rect):
    assert cover_crop(*src, *out) == rect
    assert rect.width % 2 == 0 and rect.height % 2 == 0


def test_contain_fits_inside_with_even_sizes():
    assert contain_size(1280, 720, 1080, 1920) == (1080, 608)
    assert contain_size(300, 400, 1920, 1080) == (810, 1080)


def test_cover_crops_before_it_scales():
    text = graph(plan_for(make_job(clips=[{"source": "a"}], output={"aspect": "9:16"}),
                          [media()]))  # fmt: skip
    assert 0 <= text.index("crop=404:720:438:0") < text.index("scale=540:960")


def test_clips_of_one_size_are_stitched_cropped_and_scaled_once():
    job = make_job(clips=[{"source": "a"}] * 3, transition={"type": "fade", "durationSec": 0.5},
                   output={"aspect": "9:16", "durationSec": 15})  # fmt: skip
    text = graph(plan_for(job, [media(), media(), media(seconds=5)]))
    assert text.count("crop=404:720:438:0") == 3
    assert text.count("scale=540:960") == 1
    # the fades blend the cropped 404x720 frames: every xfade comes before the one scale
    assert text.rindex("xfade") < text.index("scale=540:960")


def test_clips_of_different_sizes_are_fitted_one_by_one():
    job = make_job(clips=[{"source": "a"}, {"source": "b"}], output={"durationSec": 12})
    text = graph(plan_for(job, [media(1280, 720), media(1920, 1080)]))
    assert text.count("scale=960:540") == 2
    assert text.index("scale=960:540") < text.index("concat")


def test_rotated_source_is_cropped_by_its_displayed_size():
    # 1280x720 coded, displayed rotated: 720x1280, already 9:16, so nothing to crop.
    plan = plan_for(make_job(clips=[{"source": "a"}], output={"aspect": "9:16"}),
                    [media(rotation=90)])  # fmt: skip
    assert "crop=" not in graph(plan)


def test_every_input_is_limited_to_local_files_and_media_demuxers():
    job = make_job(clips=[{"source": "a"}, {"source": "b", "outSec": 2}])
    args = list(plan_for(job, [media(), media(audio=False)]).args)
    inputs = [i for i, a in enumerate(args) if a == "-i"]
    for index in inputs:
        before = args[:index]
        source = args[index + 1]
        if source.startswith("anullsrc"):
            continue
        assert source.startswith("file:/")
        last_input = max([i for i in inputs if i < index], default=-1)
        options = before[last_input + 1 :]
        assert options[options.index("-protocol_whitelist") + 1] == "file,pipe"
        assert "hls" not in options[options.index("-format_whitelist") + 1].split(",")


def test_fade_is_a_short_xfade_segment_between_concatenated_bodies():
    job = make_job(clips=[{"source": "a"}] * 3, transition={"type": "fade", "durationSec": 0.5},
                   output={"durationSec": 15})  # fmt: skip
    text = graph(plan_for(job, [media(), media(), media(seconds=5)]))
    assert text.count("xfade=duration=0.5:offset=0:transition=fade") == 2
    assert "acrossfade" not in text
    assert re.search(r"concat=a=0:n=5:v=1", text)  # 3 bodies + 2 fades
    assert re.search(r"concat=a=1:n=5:v=0", text)


def test_cuts_concatenate_whole_clips():
    job = make_job(clips=[{"source": "a"}] * 2, output={"durationSec": 12})
    text = graph(plan_for(job, [media(), media()]))
    assert "xfade" not in text and "split" not in text
    assert "concat=a=0:n=2:v=1" in text


def test_the_slot_is_met_by_exact_frame_and_sample_counts():
    job = make_job(clips=[{"source": "a"}], output={"durationSec": 15, "resolution": "full"})
    plan = plan_for(job, [media(seconds=6)])
    assert plan.duration.slot_frames == 450
    text = graph(plan)
    assert "trim=end_frame=450" in text
    assert "whole_len=720000" in text and "atrim=end_sample=720000" in text


def test_still_images_are_read_once_and_cloned():
    image = media(400, 300, 0.04, codec="png", audio=False, fmt="image2", frames=1)
    job = make_job(clips=[{"source": "a.png", "outSec": 2}], output={"durationSec": 2})
    args = list(plan_for(job, [image]).args)
    assert "-loop" not in args
    assert args[args.index("-pattern_type") + 1] == "none"
    assert "tpad=stop=60:stop_mode=clone" in graph(plan_for(job, [image]))


def test_user_text_never_reaches_the_filter_graph_or_argv():
    hostile = "'; rm -rf / ; %{pts} [x] :a=b \\ {\\b1}"
    job = make_job(
        clips=[{"source": "a"}],
        captions={"cues": [{"startSec": 0, "endSec": 2, "text": hostile}]},
        textOverlays=[{"text": hostile, "startSec": 0, "endSec": 1}],
        watermark={"text": hostile},
    )
    plan = plan_for(job, [media()])
    assert not any(hostile in arg or "%{pts}" in arg or "rm -rf" in arg for arg in plan.args)
    assert "ass=overlay.ass" in graph(plan)
    ((name, document),) = plan.work_files
    assert name == "overlay.ass" and "rm -rf" in document


def test_poster_time_gets_a_keyframe():
    job = make_job(clips=[{"source": "a"}, {"source": "b"}], output={"durationSec": 10})
    plan = plan_for(job, [media(seconds=6), media()])
    args = list(plan.args)
    assert plan.poster_frame == 90  # middle of the first clip
    assert args[args.index("-force_key_frames") + 1] == "3"


def test_ultrafast_keeps_the_high_profile():
    job = make_job(clips=[{"source": "a"}])
    args = list(plan_for(job, [media()], encode=EncodeOptions(preset="ultrafast")).args)
    assert args[args.index("-x264-params") + 1] == "8x8dct=1"
    assert args[args.index("-profile:v") + 1] == "high"


@pytest.mark.parametrize(
    ("clip", "info", "code", "field"),
    [
        ({"source": "a", "inSec": 7}, media(seconds=6), "in_sec_past_end", "clips[0].inSec"),
        ({"source": "a", "outSec": 9}, media(seconds=6), "out_sec_past_end", "clips[0].outSec"),
        ({"source": "a"}, media(audio=True, codec="png", frames=1, fmt="image2"),
         "missing_field", "clips[0].outSec"),
        ({"source": "a"}, replace(media(), video=None), "source_has_no_video", "clips[0].source"),
        ({"source": "a"}, media(fmt="hls"), "source_unsupported", "clips[0].source"),
        ({"source": "a"}, media(16384, 8640), "source_too_large", "clips[0].source"),
    ],
)  # fmt: skip
def test_clips_are_checked_against_their_probes(clip, info, code, field):
    job = make_job(clips=[clip])
    with pytest.raises((InvalidJob, SourceUnavailable)) as caught:
        plan_clips(job, ["a"], [info], max_pixels=MAX_PIXELS)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_clip_shorter_than_twice_the_fade_is_refused_with_its_index():
    job = make_job(clips=[{"source": "a"}, {"source": "b", "outSec": 0.9}],
                   transition={"type": "fade", "durationSec": 0.5})  # fmt: skip
    with pytest.raises(InvalidJob) as caught:
        plan_clips(job, ["a", "b"], [media(), media()], max_pixels=MAX_PIXELS)
    assert (caught.value.code, caught.value.field) == ("clip_too_short_for_fade", "clips[1]")


def test_stream_copy_only_when_nothing_changes():
    ready = media(960, 540, 3)
    job = make_job(clips=[{"source": "a"}, {"source": "b"}], output={"durationSec": 6},
                   audio={"nativeVolume": 1.0, "loudnessLufs": None})  # fmt: skip
    clips = plan_clips(job, ["a", "b"], [ready, ready], max_pixels=MAX_PIXELS)
    assert copy_blockers(job, clips) == []
    for change, reason in [
        ({"watermark": {"text": "x"}}, "watermark"),
        ({"audio": {"nativeVolume": 0.5, "loudnessLufs": None}}, "audio changes"),
        ({"audio": {"nativeVolume": 1.0}}, "loudness normalization"),
        ({"transition": {"type": "fade"}}, "fade transitions"),
        ({"output": {"durationSec": 8}}, "content is shorter than the slot"),
    ]:
        changed = make_job(**{"clips": [{"source": "a"}, {"source": "b"}],
                              "output": {"durationSec": 6},
                              "audio": {"nativeVolume": 1.0, "loudnessLufs": None},
                              **change})  # fmt: skip
        assert reason in copy_blockers(changed, clips)
    wrong_size = plan_clips(job, ["a", "b"], [media(1280, 720, 3)] * 2, max_pixels=MAX_PIXELS)
    assert any("960x540" in reason for reason in copy_blockers(job, wrong_size))


def test_measured_loudness_makes_the_render_read_its_audio_from_the_premix():
    from compositor.plan.build import PREMIX_NAME, build_premix_args
    from compositor.plan.mix import LoudnessMeasurement, MixPlan

    job = make_job(clips=[{"source": "a"}, {"source": "b"}], output={"durationSec": 10})
    medias = [media(), media()]
    clips = plan_clips(job, ["a", "b"], medias, max_pixels=MAX_PIXELS)
    mix_plan = MixPlan(voice=None, music=None, ducking=True, loudness_target=-14)
    premix = list(build_premix_args(job, clips, mix_plan))
    assert (
        PREMIX_NAME in premix
        and "ebur128=framelog=quiet:peak=true" in (premix[premix.index("-filter_complex") + 1])
    )
    assert premix.count("-vn") == 2  # audio inputs only: no picture decoded in this pass
    measured = LoudnessMeasurement(-22.0, -3.0)
    render = build_plan(job, clips, mix_plan=replace(mix_plan, loudness=measured))
    text = graph(render)
    assert not re.search(r"\[[01]:a\]", text)  # no clip audio decoded by the render
    # pass 2: the gain to the target (-22 -> -14 LUFS), then the -2 dBFS limiter, since the
    # gained peak (-3 + 8 dB) would pass it
    assert re.search(r"\[2:a\]volume=8\.00dB\[(s\d+)\];\[\1\]alimiter=[^;]*limit=0\.7943", text)
    args = list(render.args)
    assert args[args.index(PREMIX_NAME) - 1] == "-i"


def test_the_filter_graph_runs_on_one_thread_unless_configured():
    job = make_job(clips=[{"source": "a"}])
    args = list(plan_for(job, [media()]).args)
    assert args[args.index("-filter_complex_threads") + 1] == "1"
    assert args.index("-filter_complex_threads") < args.index("-i")  # a global option
    free = list(plan_for(job, [media()], encode=EncodeOptions(filter_threads=0)).args)
    assert "-filter_complex_threads" not in free
