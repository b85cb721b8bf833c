"""The dashboard's pure rules, as tables: audio configuration bounds, dashboard origins, the
composite jobs built from a bundle (overlays by plan, captions, watermark, segments), cue
validation, job tokens and caption timing keys."""

from __future__ import annotations

import math

import pytest

from api.access import PlanInfo
from api.audio_config import DEFAULT_AUDIO_CONFIG, merge_audio_config
from api.compositing import jobs
from api.compositing.tokens import JobTokens, composite_id_of, job_id_of
from api.dashboard.captions import timing_for
from api.dashboard.csrf import check_origin, request_origin
from api.errors import CsrfFailed, InvalidRequest, NotFound, OverlayNotAllowed
from api.settings import ApiSettings, origin_of
from compositor.job import parse_job


def plan(*overlays: str, watermark: bool = True, premium: bool = False) -> PlanInfo:
    return PlanInfo(1, "p", 12, watermark, premium, overlays)


def source(**changes) -> jobs.Source:
    values = dict(
        id="vg_src",
        duration_sec=5,
        aspect="16:9",
        script="Meet the gym. Join today.",
        audio=dict(DEFAULT_AUDIO_CONFIG),
        cues=(),
        words=None,
        caption_style="clean",
        burn_in=True,
        video_key="generations/vg_src/preview.mp4",
        shots=(),
    )
    values.update(changes)
    return jobs.Source(**values)


# -- audio configuration ------------------------------------------------------------------


def test_audio_config_starts_from_the_defaults_and_takes_partial_changes():
    assert merge_audio_config(None, None, duration_sec=15) == DEFAULT_AUDIO_CONFIG
    merged = merge_audio_config({"speechPace": 1.5, "voice": None}, {"pitch": -3}, duration_sec=15)
    assert (merged["speechPace"], merged["pitch"], merged["voice"]) == (1.5, -3, "standard")


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"speechPace": 0.5}, True),
        ({"speechPace": 2.0}, True),
        ({"speechPace": 0.49}, False),
        ({"pitch": 12}, True),
        ({"pitch": 12.01}, False),
        ({"voiceVolume": 0}, True),
        ({"voiceVolume": -0.1}, False),
        ({"voiceStartSec": 5}, True),
        ({"voiceStartSec": 5.01}, False),
        ({"musicStartSec": -1}, False),
        ({"musicVolume": True}, False),
        ({"musicVolume": "0.3"}, False),
        ({"musicVolume": math.inf}, False),
        ({"voice": "premium"}, True),
        ({"musicTrack": "none"}, True),
        ({"musicTrack": None}, False),
        ({"tempo": 1}, False),
    ],
)
def test_audio_config_bounds(changes, ok):
    if ok:
        merge_audio_config(None, changes, duration_sec=5)
        return
    with pytest.raises(InvalidRequest) as refused:
        merge_audio_config(None, changes, duration_sec=5)
    assert refused.value.field == f"audioConfig.{next(iter(changes))}"


# -- origins --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://App.Example.com/studio?x=1", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://127.0.0.1:8000.evil.example", "http://127.0.0.1:8000.evil.example"),
    ],
)
def test_origins_compare_as_browsers_send_them(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("method", "headers", "allowed"),
    [
        ("GET", {}, True),
        ("POST", {"origin": "http://127.0.0.1:8000"}, True),
        ("POST", {"referer": "http://127.0.0.1:8000/studio"}, True),
        ("POST", {"origin": "null", "referer": "http://127.0.0.1:8000/"}, True),
        ("POST", {"origin": "https://evil.example", "referer": "http://127.0.0.1:8000/"}, False),
        ("POST", {}, False),
        ("DELETE", {"origin": "null"}, False),
        ("POST", {"origin": "https://dash.example.com"}, True),
    ],
)
def test_cookie_writes_need_a_dashboard_origin(method, headers, allowed):
    origins = ApiSettings(dashboard_origins="https://dash.example.com").allowed_origins
    if allowed:
        check_origin(method, headers, origins)
    else:
        with pytest.raises(CsrfFailed):
            check_origin(method, headers, origins)
    assert request_origin({}) is None


# -- the final composite ---------------------------------------------------------------------


def request(**body) -> jobs.FinalRequest:
    return jobs.parse_final_request({"videoId": "vg_src", **body})


@pytest.mark.parametrize(
    ("overlays", "body", "narrate", "music", "refused_field"),
    [
        (("voice", "music", "text"), {}, True, "upbeat", None),
        (("music",), {}, False, "upbeat", None),  # not asked: left out
        (("voice",), {}, True, None, None),
        (("music",), {"voice": "standard"}, None, None, "voice"),  # asked: refused
        (("voice",), {"musicTrack": "calm"}, None, None, "musicTrack"),
        (("voice",), {"musicTrack": "none"}, True, None, None),
        (
            ("voice", "music"),
            {"textOverlays": [{"text": "Hi", "startSec": 0, "endSec": 1}]},
            None,
            None,
            "textOverlays",
        ),
        (("voice",), {"voice": "premium"}, None, None, "voice"),  # no premium in the plan
    ],
)
def test_overlays_the_plan_lacks_are_left_out_unless_asked_for(
    overlays, body, narrate, music, refused_field
):
    if refused_field:
        with pytest.raises(OverlayNotAllowed) as refused:
            jobs.resolve_final(source(), request(**body), plan(*overlays))
        assert refused.value.field == refused_field
        return
    spec = jobs.resolve_final(source(), request(**body), plan(*overlays))
    assert (spec.narrate, spec.music) == (narrate, music)


def test_the_final_job_is_a_valid_worker_job_with_the_plans_watermark():
    cues = ({"startSec": 0.5, "endSec": 2.0, "text": "Meet the gym."},)
    words = ([{"text": "Meet", "startSec": 0.5, "endSec": 0.8}],)
    saved = source(cues=cues, words=words)
    spec = jobs.resolve_final(saved, request(), plan("voice", "music", "text", premium=True))
    job = jobs.final_job(
        spec,
        job_id="cmp_x",
        video_url="http://api/v.mp4",
        tolerance_sec=0.1,
        resolution="preview",
        callback_url="http://api/cb",
    )
    parsed = parse_job(job)
    assert parsed.watermark is not None and parsed.watermark.image == "builtin:watermark"
    assert parsed.output.duration_mode == "fit" and parsed.output.duration_sec == 5
    assert parsed.audio.narration.script == "Meet the gym. Join today."
    assert parsed.captions.cues[0].words[0].text == "Meet"  # the saved words ride along
    assert job["callbackUrl"] == "http://api/cb" and job["jobId"] == "cmp_x"

    edited = request(captionCues=[{"startSec": 1, "endSec": 2, "text": "Edited"}], burnIn=False)
    spec = jobs.resolve_final(saved, edited, plan("voice", watermark=False))
    job = jobs.final_job(
        spec, job_id="cmp_y", video_url="http://api/v.mp4", tolerance_sec=0.1, resolution="full"
    )
    assert job["watermark"] is None and "callbackUrl" not in job
    assert job["captions"] == {
        "cues": [{"startSec": 1.0, "endSec": 2.0, "text": "Edited"}],
        "style": "clean",
        "burnIn": False,
    }
    parse_job(job)

    bare = jobs.resolve_final(source(), request(), plan("voice"))
    assert "captions" not in jobs.final_job(
        bare, job_id="cmp_z", video_url="u", tolerance_sec=0.1, resolution="full"
    )


@pytest.mark.parametrize(
    ("cues", "field"),
    [
        ([{"startSec": 0, "endSec": 0, "text": "a"}], "captionCues[0].endSec"),
        ([{"startSec": 5, "endSec": 6, "text": "a"}], "captionCues[0].startSec"),
        ([{"startSec": 1, "endSec": 5.5, "text": "a"}], "captionCues[0].endSec"),
        ([{"startSec": 1, "endSec": 2, "text": " "}], "captionCues[0].text"),
        ([{"startSec": 1, "endSec": 2}], "captionCues[0].text"),
        ([{"startSec": 1, "endSec": 2, "text": "a", "color": "red"}], "captionCues[0].color"),
        (
            [{"startSec": 1, "endSec": 3, "text": "a"}, {"startSec": 2, "endSec": 4, "text": "b"}],
            "captionCues[1].startSec",
        ),
        ({"startSec": 1}, "captionCues"),
    ],
)
def test_cues_from_the_client_stay_inside_the_video_in_order(cues, field):
    with pytest.raises(InvalidRequest) as refused:
        jobs.resolve_final(source(), request(captionCues=cues), plan("voice"))
    assert refused.value.field == field


# -- stitched clips ------------------------------------------------------------------------------


def test_segments_are_shots_for_cuts_and_whole_clips_for_fades():
    shots = ({"key": "g/a/shot-0.mp4"}, {"key": "g/a/shot-1.mp4"})
    with_shots = source(shots=shots, video_key="g/a/preview.mp4")
    without = source(shots=({"index": 0},), video_key="g/b/preview.mp4")
    assert jobs.segment_keys(with_shots, "cut") == ["g/a/shot-0.mp4", "g/a/shot-1.mp4"]
    assert jobs.segment_keys(with_shots, "fade") == ["g/a/preview.mp4"]
    assert jobs.segment_keys(without, "cut") == ["g/b/preview.mp4"]
    asked = jobs.parse_clips_request(
        {"clipIds": ["vg_a", "vg_b"], "transition": {"type": "fade", "durationSec": 0.8}}
    )
    spec = jobs.resolve_clips(asked, [with_shots, without], plan("music"))
    job = jobs.clips_job(
        spec, job_id="cmp_c", segment_urls=["u1", "u2"], tolerance_sec=0.1, resolution="preview"
    )
    parsed = parse_job(job)
    assert parsed.transition.type == "fade" and parsed.transition.duration_sec == 0.8
    assert parsed.audio.music.source == "builtin:upbeat" and parsed.output.duration_sec == 15
    no_music = jobs.resolve_clips(asked, [with_shots, without], plan("voice"))
    assert no_music.music is None  # a style is a preset: the plan's limits apply quietly


# -- tokens and timing keys ---------------------------------------------------------------------


def test_job_tokens_are_bound_to_their_business():
    tokens = JobTokens("secret")
    token = tokens.issue("vg_abc", "biz_1")
    assert tokens.composite_of(token, "biz_1") == "vg_abc"
    for bad, business in (
        (token, "biz_2"),
        (token[:-2] + "xx", "biz_1"),
        (JobTokens("other").issue("vg_abc", "biz_1"), "biz_1"),
    ):
        with pytest.raises(NotFound):
            tokens.composite_of(bad, business)
    with pytest.raises(InvalidRequest):
        tokens.composite_of(None, "biz_1")
    assert composite_id_of(job_id_of("vg_abc")) == "vg_abc" and composite_id_of("x") is None


def test_caption_keys_change_with_what_moves_the_words_only():
    audio = dict(DEFAULT_AUDIO_CONFIG)
    base = timing_for("Hello there.", audio, 15).key
    assert timing_for("Hello there.", {**audio, "musicTrack": "calm"}, 15).key == base
    assert timing_for("Hello there.", {**audio, "pitch": 5}, 15).key == base
    for changed in (
        timing_for("Hello there!", audio, 15),
        timing_for("Hello there.", audio, 30),
        timing_for("Hello there.", {**audio, "speechPace": 1.1}, 15),
        timing_for("Hello there.", {**audio, "voiceStartSec": 1}, 15),
        timing_for("Hello there.", {**audio, "voice": "premium"}, 15),
    ):
        assert changed.key != base
