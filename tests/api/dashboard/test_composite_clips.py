"""``composite-clips`` through the real servers: which clips may be stitched (refusals hold
nothing, on both databases), and a real stitch of shot segments and whole clips (SQLite)."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from api.db.models import VideoGeneration
from tests.api.contract import assert_documented, assert_error
from tests.api.dashboard.helpers import composite_rows, month_totals, poll_until_done, seed_source
from tests.mediatools import frame_at, mean_rgb, stream_durations, video_info

CLIPS = "/api/businesses/me/video/composite-clips"


def test_clips_must_be_ten_at_most_distinct_own_and_completed(stack, world, source_media):
    account = world.account(credits=12)
    client = stack.signed_in(account)
    done = [seed_source(stack.db, stack.storage, account, source_media.red) for _ in range(2)]
    busy = seed_source(stack.db, stack.storage, account, source_media.red, status="processing")
    theirs = seed_source(stack.db, stack.storage, world.account(), source_media.red)

    def refused(body: dict, status: int, code: str, field: str) -> None:
        answer = assert_error(client.post(CLIPS, json=body), status, code, "POST", CLIPS)
        assert answer["error"]["field"] == field, answer

    refused({"clipIds": [done[0], theirs]}, 404, "not_found", "clipIds[1]")
    refused({"clipIds": [done[0], busy]}, 409, "not_ready", "clipIds[1]")
    refused({"clipIds": [done[0]] * 11}, 400, "invalid_field", "clipIds")
    refused({"clipIds": [f"vg_{i}" for i in range(11)]}, 400, "invalid_field", "clipIds")
    refused({"clipIds": [done[0], done[1], done[0]]}, 400, "invalid_field", "clipIds[2]")
    refused({"clipIds": []}, 400, "invalid_field", "clipIds")
    fade = {"type": "fade", "durationSec": 2.5}
    refused({"clipIds": done, "transition": fade}, 400, "invalid_field", "transition.durationSec")
    refused({"clipIds": done, "duration": "12"}, 400, "invalid_duration", "duration")
    refused({"clipIds": done, "aspect": "4:3"}, 400, "invalid_aspect_ratio", "aspect")
    assert composite_rows(stack.db, account.business_id) == []
    assert month_totals(stack.db, account.business_id) == (0, 0)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cut_clips_are_stitched_from_their_shots_and_charged_on_output(stack, world, source_media):
    account = world.account(credits=12, watermark=False)
    client = stack.signed_in(account)
    shots = seed_source(
        stack.db,
        stack.storage,
        account,
        source_media.red,
        shots=[source_media.red_half, source_media.green_half],
    )
    whole = seed_source(stack.db, stack.storage, account, source_media.blue)
    dispatched = client.post(
        CLIPS, json={"clipIds": [shots, whole], "duration": "5", "style": "plain"}
    )
    body = assert_documented(dispatched, "POST", CLIPS)
    assert dispatched.status_code == 202
    with stack.db.session() as session:
        row = session.scalars(
            select(VideoGeneration).where(VideoGeneration.id == body["compositeId"])
        ).one()
        sources = [clip["source"] for clip in row.details["job"]["clips"]]
    # three segments, each a short-lived signed link of ours: two shots, then a whole clip
    assert [url.split("?")[0].rsplit("/", 1)[-1] for url in sources] == [
        "shot-0.mp4",
        "shot-1.mp4",
        "preview.mp4",
    ]
    assert all("exp=" in url and "sig=" in url for url in sources)

    ended = poll_until_done(client, body["jobToken"])
    assert (ended["status"], ended["creditsUsed"]) == ("completed", 1), ended
    out = stack.data_dir / "clips.mp4"
    out.write_bytes(httpx.get(ended["composite"]["url"]).content)
    video, audio = stream_durations(out)
    assert abs(video - 5) <= 0.1 and abs(audio - 5) <= 0.1
    assert video_info(out)["width"] == 960
    # 10 s of clips in a 5 s slot: sped up by the most fit allows (15 %), then cut at the slot
    red, green, blue = (mean_rgb(frame_at(out, t)) for t in (1.0, 3.0, 4.8))
    assert red[0] > 150 > red[1] and green[1] > 90 > green[2] and blue[2] > 150 > blue[0]
    assert np.argmax(red) == 0 and np.argmax(green) == 1 and np.argmax(blue) == 2
    assert month_totals(stack.db, account.business_id) == (1, 0)
