"""Source bundles through the real API, on both databases: the create answers the bundle
(script, audioConfig with its defaults and bounds, shots, compositing guidance) and charges
like v1; status and download by id, for the business only."""

from __future__ import annotations

import httpx
import pytest

from tests.api.contract import assert_documented, assert_error
from tests.api.dashboard.helpers import month_totals, seed_source

VIDEO = "/api/businesses/me/video"
PROMPT = "Membership promo showing coaching, equipment, and happy members"


def test_the_create_answers_a_source_bundle_and_charges_like_v1(stack, world):
    account = world.account(credits=12, watermark=True, overlays=("voice", "music"))
    client = stack.signed_in(account)
    reply = client.post(
        VIDEO,
        json={
            "prompt": PROMPT,
            "duration": 15,
            "aspectRatio": "9:16",
            "audioConfig": {"speechPace": 1.2, "musicTrack": "calm"},
            "style": "energetic",
        },
    )
    body = assert_documented(reply, "POST", VIDEO)
    video = body["video"]
    assert (body["creditsUsed"], body["monthlyUsage"]) == (2, {"used": 2, "limit": 12})
    assert (video["status"], video["duration"], video["aspectRatio"]) == (
        "processing",
        "15",
        "9:16",
    )
    assert video["audioConfig"] == {
        "speechPace": 1.2,
        "pitch": 0,
        "voiceVolume": 1.0,
        "musicVolume": 0.3,
        "nativeVolume": 0.5,
        "voiceStartSec": 0.5,
        "musicStartSec": 0,
        "voice": "standard",
        "musicTrack": "calm",
    }
    assert video["script"].startswith("Discover Membership promo.")
    shots = video["shots"]
    assert 3 <= len(shots) <= 5 and sum(shot["durationSec"] for shot in shots) == 15
    assert [shot["status"] for shot in shots] == ["processing"] * len(shots)
    assert all("key" not in shot and "background" not in shot for shot in shots)
    guidance = video["compositing"]
    assert guidance["watermark"]["image"] == "builtin:watermark"
    assert guidance["textOverlays"] == []  # the plan has no text overlays
    assert guidance["allowedOverlays"] == ["voice", "music"]
    assert month_totals(stack.db, account.business_id) == (2, 0)


@pytest.mark.parametrize(
    ("audio", "field"),
    [
        ({"speechPace": 2.5}, "audioConfig.speechPace"),
        ({"pitch": -13}, "audioConfig.pitch"),
        ({"musicVolume": 3}, "audioConfig.musicVolume"),
        ({"voiceStartSec": 6}, "audioConfig.voiceStartSec"),  # past the 5 s slot
        ({"nativeVolume": True}, "audioConfig.nativeVolume"),
        ({"voice": "robot"}, "audioConfig.voice"),
        ({"musicTrack": "jazz"}, "audioConfig.musicTrack"),
        ({"speechpace": 1.1}, "audioConfig.speechpace"),
        ([1, 2], "audioConfig"),
    ],
)
def test_audio_config_out_of_bounds_is_refused_with_its_field(stack, world, audio, field):
    account = world.account()
    client = stack.signed_in(account)
    reply = client.post(VIDEO, json={"prompt": PROMPT, "duration": "5", "audioConfig": audio})
    assert assert_error(reply, 400, "invalid_field", "POST", VIDEO)["error"]["field"] == field
    assert month_totals(stack.db, account.business_id) == (0, 0)


def test_v1_validation_and_credits_apply(stack, world):
    account = world.account(credits=3)
    client = stack.signed_in(account)
    assert_error(client.post(VIDEO, json={"prompt": "hey"}), 400, "invalid_prompt", "POST", VIDEO)
    assert_error(
        client.post(VIDEO, json={"prompt": PROMPT, "duration": "12"}),
        400,
        "invalid_duration",
        "POST",
        VIDEO,
    )
    assert_error(client.post(VIDEO, json=[1]), 400, "invalid_json", "POST", VIDEO)
    first = client.post(VIDEO, json={"prompt": PROMPT}, headers={"Idempotency-Key": "one"})
    again = client.post(VIDEO, json={"prompt": PROMPT}, headers={"Idempotency-Key": "one"})
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert_error(
        client.post(VIDEO, json={"prompt": PROMPT}), 429, "credit_limit_exceeded", "POST", VIDEO
    )
    assert month_totals(stack.db, account.business_id) == (2, 0)


def test_status_and_download_by_id(stack, world, source_media):
    account = world.account()
    client = stack.signed_in(account)
    done = seed_source(
        stack.db,
        stack.storage,
        account,
        source_media.red,
        shots=[source_media.red_half, source_media.green_half],
    )
    busy = seed_source(stack.db, stack.storage, account, source_media.red, status="processing")
    theirs = seed_source(stack.db, stack.storage, world.account(), source_media.red)

    status = assert_documented(client.get(VIDEO, params={"id": done}), "GET", VIDEO)["video"]
    assert status["status"] == "completed" and status["videoUrl"].startswith(stack.base)
    assert httpx.get(status["videoUrl"]).content == source_media.red.read_bytes()
    assert httpx.get(status["shots"][1]["url"]).content == source_media.green_half.read_bytes()
    download = client.get(VIDEO, params={"id": done, "download": "1"})
    assert download.status_code == 302 and download.headers["cache-control"] == "no-store"
    assert httpx.get(download.headers["location"]).content == source_media.red.read_bytes()

    pending = assert_documented(client.get(VIDEO, params={"id": busy}), "GET", VIDEO)["video"]
    assert (pending["status"], pending["videoUrl"]) == ("processing", None)
    assert_error(
        client.get(VIDEO, params={"id": busy, "download": "1"}), 409, "not_ready", "GET", VIDEO
    )
    for params in ({"id": theirs}, {"id": theirs, "download": "1"}, {"id": "vg_nope"}):
        assert_error(client.get(VIDEO, params=params), 404, "not_found", "GET", VIDEO)
    assert_error(client.get(VIDEO), 400, "invalid_field", "GET", VIDEO)
