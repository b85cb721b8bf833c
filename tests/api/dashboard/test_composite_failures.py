"""Failures never cost a credit, on SQLite and PostgreSQL: a worker killed mid-render releases
the hold and the composite fails with a reason; a worker down at dispatch is a 503 with no
hold and no row left behind."""

from __future__ import annotations

import httpx

from tests.api.contract import assert_documented, assert_error
from tests.api.dashboard.helpers import (
    composite_rows,
    entries_of,
    job_id_of,
    month_totals,
    poll_until_done,
    seed_source,
    wait_for_stage,
)

COMPOSITE = "/api/businesses/me/video/composite"


def usage(stack, account) -> dict:
    reply = httpx.get(f"{stack.base}/api/v1/video", headers={"X-NearIQ-Key": account.key})
    return reply.json()["monthlyUsage"]


def test_a_worker_killed_mid_render_releases_the_hold_and_a_dead_worker_refuses_dispatch(
    own_stack, world, source_media
):
    account = world.account(credits=12)
    with own_stack(NEARIQ_COMPOSITOR_UNREACHABLE_GRACE_SEC="0") as stack:
        client = stack.signed_in(account)
        source = seed_source(stack.db, stack.storage, account, source_media.long, duration_sec=15)
        before = usage(stack, account)
        dispatched = client.post(COMPOSITE, json={"videoId": source})
        assert dispatched.status_code == 202, dispatched.text
        token, composite_id = dispatched.json()["jobToken"], dispatched.json()["compositeId"]
        wait_for_stage(stack.worker_client(), job_id_of(composite_id), {"rendering"})
        assert entries_of(stack.db, composite_id) == [("composite", "held", 1)]

        stack.worker.kill_hard()  # the worker and its FFmpeg, as when a container dies

        ended = poll_until_done(client, token)
        assert ended["status"] == "failed"
        assert ended["error"]["code"] == "compositor_unreachable" and ended["error"]["message"]
        assert ended["creditsUsed"] == 0
        assert entries_of(stack.db, composite_id) == [("composite", "released", 1)]
        assert usage(stack, account) == before
        assert month_totals(stack.db, account.business_id) == (0, 0)

        # The worker is gone: a new composite is refused before anything is held or written.
        refused = client.post(COMPOSITE, json={"videoId": source})
        assert_error(refused, 503, "compositor_unavailable", "POST", COMPOSITE)
        assert [row.id for row in composite_rows(stack.db, account.business_id)] == [composite_id]
        assert month_totals(stack.db, account.business_id) == (0, 0)
        status = client.get("/api/businesses/me/video", params={"id": composite_id})
        video = assert_documented(status, "GET", "/api/businesses/me/video")["video"]
        assert (video["kind"], video["status"], video["creditsUsed"]) == ("composite", "failed", 0)
        assert video["error"]["code"] == "compositor_unreachable"


def test_a_render_that_fails_on_the_worker_releases_the_hold_with_the_workers_reason(
    stack, world, source_media
):
    account = world.account(credits=12)
    client = stack.signed_in(account)
    source = seed_source(stack.db, stack.storage, account, source_media.red)
    # The source file disappears after dispatch: the worker cannot fetch it, the job fails.
    stack.storage.delete(f"generations/{source}/preview.mp4")
    dispatched = client.post(COMPOSITE, json={"videoId": source})
    assert dispatched.status_code == 202, dispatched.text
    ended = poll_until_done(client, dispatched.json()["jobToken"])
    assert ended["status"] == "failed" and ended["creditsUsed"] == 0
    assert ended["error"]["code"].startswith("source_"), ended
    assert entries_of(stack.db, dispatched.json()["compositeId"]) == [("composite", "released", 1)]
    assert month_totals(stack.db, account.business_id) == (0, 0)
