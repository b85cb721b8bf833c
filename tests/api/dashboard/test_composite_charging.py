"""Charging on output through real servers, on SQLite and PostgreSQL: a composite holds one
credit at dispatch and is charged exactly once however many polls and callbacks race to
settle it; a premium voice whose provider is down is refused before any hold."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.api.contract import assert_documented, assert_error
from tests.api.dashboard.helpers import (
    composite_rows,
    entries_of,
    job_id_of,
    month_totals,
    poll_until_done,
    seed_source,
)
from tests.mediatools import stream_durations
from tests.worker.helpers import wait_until

COMPOSITE = "/api/businesses/me/video/composite"


def test_ten_polls_and_the_callback_racing_on_a_finished_job_charge_it_once(
    stack, world, source_media
):
    account = world.account(credits=12)
    client = stack.signed_in(account)
    source = seed_source(stack.db, stack.storage, account, source_media.red)
    stack.relay.arm()  # the worker's callback waits at the relay until the polls go too
    dispatched = client.post(COMPOSITE, json={"videoId": source})
    assert dispatched.status_code == 202, dispatched.text
    body = assert_documented(dispatched, "POST", COMPOSITE)
    token, composite_id = body["jobToken"], body["compositeId"]
    assert month_totals(stack.db, account.business_id) == (0, 1)  # held, not charged

    # The worker finishes; its callback is held, nobody has asked the API yet.
    assert stack.relay.received.wait(120), "the worker never called back"
    finished = stack.worker_client().status(job_id_of(composite_id)).json()
    assert finished["status"] == "completed", finished
    assert entries_of(stack.db, composite_id) == [("composite", "held", 1)]

    start = threading.Barrier(11)
    answers: list[dict] = []

    def poll() -> None:
        start.wait()
        reply = client.get(COMPOSITE, params={"jobToken": token})
        answers.append(assert_documented(reply, "GET", COMPOSITE))

    def deliver_callback() -> None:
        start.wait()
        stack.relay.release()

    threads = [threading.Thread(target=poll) for _ in range(10)]
    threads.append(threading.Thread(target=deliver_callback))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    poll_until_done(client, token)  # the callback's own answer may land after the polls

    assert len(answers) == 10
    assert {answer["status"] for answer in answers} == {"completed"}
    assert {answer["creditsUsed"] for answer in answers} == {1}
    wait_until(lambda: stack.relay.answers, timeout=60)  # the callback's own answer
    assert set(stack.relay.answers) == {200}
    assert entries_of(stack.db, composite_id) == [("composite", "charged", 1)]
    assert month_totals(stack.db, account.business_id) == (1, 0)
    listed = client.get(COMPOSITE, params={"jobToken": token}).json()
    composite = listed["composite"]
    assert composite["id"] == composite_id and abs(composite["durationSec"] - 5) <= 0.1
    assert (composite["width"], composite["height"]) == (960, 540)
    v1 = httpx.get(f"{stack.base}/api/v1/video", headers={"X-NearIQ-Key": account.key})
    listed_v1 = {video["id"]: video for video in v1.json()["videos"]}
    assert listed_v1[composite_id]["status"] == "completed"
    assert listed_v1[composite_id]["creditsUsed"] == 1
    assert v1.json()["monthlyUsage"] == {"used": 1, "limit": 12}


def test_a_premium_voice_with_its_provider_down_is_refused_before_any_hold(
    stack, world, source_media
):
    account = world.account(credits=12, premium_narration=True)
    client = stack.signed_in(account)
    source = seed_source(stack.db, stack.storage, account, source_media.red)
    refused = client.post(COMPOSITE, json={"videoId": source, "voice": "premium"})
    body = assert_error(refused, 503, "narration_unavailable", "POST", COMPOSITE)
    assert body["error"]["field"] == "voice"
    assert composite_rows(stack.db, account.business_id) == []
    assert month_totals(stack.db, account.business_id) == (0, 0)


def test_premium_narration_is_an_overlay_the_plan_must_include(stack, world, source_media):
    account = world.account(credits=12, premium_narration=False)
    client = stack.signed_in(account)
    source = seed_source(stack.db, stack.storage, account, source_media.red)
    refused = client.post(COMPOSITE, json={"videoId": source, "voice": "premium"})
    assert_error(refused, 403, "overlay_not_allowed", "POST", COMPOSITE)
    assert composite_rows(stack.db, account.business_id) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_dispatch_allowed_to_wait_answers_the_charged_composite(own_stack, world, source_media):
    account = world.account(credits=12, watermark=False)
    with own_stack(NEARIQ_COMPOSITOR_WAIT_SEC="30") as stack:
        client = stack.signed_in(account)
        source = seed_source(stack.db, stack.storage, account, source_media.blue)
        reply = client.post(COMPOSITE, json={"videoId": source, "musicTrack": "none"})
        assert reply.status_code == 200, reply.text
        body = assert_documented(reply, "POST", COMPOSITE)
        assert (body["status"], body["creditsUsed"]) == ("completed", 1)
        assert body["monthlyUsage"] == {"used": 1, "limit": 12}
        out = stack.data_dir / "waited.mp4"
        out.write_bytes(httpx.get(body["composite"]["url"]).content)
        assert all(abs(seconds - 5) <= 0.1 for seconds in stream_durations(out))
        # the callback and later polls find it settled
        again = poll_until_done(client, body["jobToken"])
        assert (again["status"], again["creditsUsed"]) == ("completed", 1)
        assert entries_of(stack.db, body["composite"]["id"]) == [("composite", "charged", 1)]
