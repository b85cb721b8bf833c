"""Captions through the real API, on SQLite and PostgreSQL: the first call generates and
charges one credit, the same script and timing again returns the saved cues free, a changed
script charges again; cues follow the rules and carry into a ready composite body."""

from __future__ import annotations

import threading
from itertools import pairwise

from tests.api.contract import assert_documented, assert_error
from tests.api.dashboard.helpers import SCRIPT, entries_of, month_totals, seed_source

CAPTIONS = "/api/businesses/me/video/captions"


def test_captions_charge_once_per_script_and_timing(stack, world, source_media):
    account = world.account(credits=12)
    client = stack.signed_in(account)
    video = seed_source(
        stack.db,
        stack.storage,
        account,
        source_media.red,
        duration_sec=5,
        script="Meet your new gym. Join today.",
    )

    first = assert_documented(client.post(CAPTIONS, json={"videoId": video}), "POST", CAPTIONS)
    assert (first["reused"], first["creditsUsed"]) == (False, 1)
    assert first["monthlyUsage"] == {"used": 1, "limit": 12}
    cues = first["captionCues"]
    assert [cue["text"] for cue in cues] == ["Meet your new gym.", "Join today."]
    assert abs(cues[0]["startSec"] - 0.5) < 0.05  # the voice starts at voiceStartSec
    for cue in cues:
        assert 0.7 <= cue["endSec"] - cue["startSec"] <= 6 and cue["endSec"] <= 5
    assert all(a["endSec"] <= b["startSec"] for a, b in pairwise(cues))
    assert first["compositeBody"]["videoId"] == video
    assert first["compositeBody"]["captionCues"] == cues

    again = client.post(CAPTIONS, json={"videoId": video, "captionStyle": "bold"})
    again = assert_documented(again, "POST", CAPTIONS)
    assert (again["reused"], again["creditsUsed"], again["captionCues"]) == (True, 0, cues)
    assert again["captionStyle"] == "bold" and again["compositeBody"]["captionStyle"] == "bold"
    assert again["monthlyUsage"] == {"used": 1, "limit": 12}

    changed = client.post(CAPTIONS, json={"videoId": video, "script": "Strong starts here."})
    changed = assert_documented(changed, "POST", CAPTIONS)
    assert (changed["reused"], changed["creditsUsed"]) == (False, 1)
    assert [cue["text"] for cue in changed["captionCues"]] == ["Strong starts here."]
    assert changed["monthlyUsage"] == {"used": 2, "limit": 12}
    assert entries_of(stack.db, video) == [("captions", "charged", 1)] * 2
    bundle = client.get("/api/businesses/me/video", params={"id": video}).json()["video"]
    assert bundle["script"] == "Strong starts here."  # the composite narrates what is captioned
    assert bundle["captions"] == changed["captionCues"]


def test_two_identical_caption_requests_at_once_charge_one_credit(stack, world, source_media):
    account = world.account(credits=12)
    client = stack.signed_in(account)
    video = seed_source(
        stack.db,
        stack.storage,
        account,
        source_media.red,
        script=SCRIPT,
        duration_sec=5,
        status="processing",
    )
    start = threading.Barrier(2)
    answers = []

    def ask() -> None:
        start.wait()
        answers.append(client.post(CAPTIONS, json={"videoId": video}).json())

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answer["creditsUsed"] for answer in answers) == [0, 1]
    assert answers[0]["captionCues"] == answers[1]["captionCues"]
    assert month_totals(stack.db, account.business_id) == (1, 0)


def test_caption_requests_that_cannot_be_served_charge_nothing(stack, world, source_media):
    account = world.account(credits=1)
    client = stack.signed_in(account)
    video = seed_source(stack.db, stack.storage, account, source_media.red, duration_sec=5)
    other = seed_source(stack.db, stack.storage, world.account(), source_media.red)
    assert_error(client.post(CAPTIONS, json={"videoId": other}), 404, "not_found", "POST", CAPTIONS)
    too_long = client.post(CAPTIONS, json={"videoId": video, "script": "word " * 200})
    body = assert_error(too_long, 400, "invalid_field", "POST", CAPTIONS)
    assert body["error"]["field"] == "script"
    bad_style = client.post(CAPTIONS, json={"videoId": video, "captionStyle": "neon"})
    assert assert_error(bad_style, 400, "invalid_field", "POST", CAPTIONS)["error"]["field"] == (
        "captionStyle"
    )
    assert client.post(CAPTIONS, json={"videoId": video}).json()["creditsUsed"] == 1
    over = client.post(CAPTIONS, json={"videoId": video, "script": "Another line to say."})
    assert_error(over, 429, "credit_limit_exceeded", "POST", CAPTIONS)
    assert month_totals(stack.db, account.business_id) == (1, 0)
