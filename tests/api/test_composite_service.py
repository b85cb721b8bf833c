"""The composite service's clock-driven endings, on both databases, against a worker address
where nothing listens (real connection refusals): a silent worker fails the job after the
grace period, a deadline fails it, and either way the hold is released exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.compositing.watcher import CompositeWatcher
from api.db.models import VideoGeneration
from api.ids import new_id
from tests.api.dashboard.helpers import entries_of, month_totals
from tests.worker.helpers import free_port


@pytest.fixture(autouse=True)
def _this_month(clock) -> None:
    clock.set(datetime.now(UTC))  # month_totals reads the wall clock's month


def held_composite(services, account, *, deadline_sec: int = 600) -> VideoGeneration:
    now = services.clock.now()
    row = VideoGeneration(
        id=new_id("vg"),
        business_id=account.business_id,
        kind="composite",
        status="processing",
        prompt="composite",
        duration_sec=5,
        aspect_ratio="16:9",
        details={"job": {"jobId": "x", "output": {"durationSec": 5}}, "dispatches": 1},
        attempts=0,
        deadline_at=now + timedelta(seconds=deadline_sec),
    )
    services.ledger.create_row(
        row,
        limit=12,
        credits=1,
        state="held",
        reason="composite",
        build_response=lambda _row, _usage: {},
    )
    return row


def services_with_silent_worker(make_services, provider, grace: int):
    return make_services(
        provider,
        compositor_url=f"http://127.0.0.1:{free_port()}",
        compositor_secrets="s",
        compositor_unreachable_grace_sec=grace,
        compositor_timeout_sec=2,
    )


def test_a_silent_worker_fails_the_job_only_after_the_grace(make_services, provider, world, clock):
    account = world.account()
    services = services_with_silent_worker(make_services, provider, grace=120)
    row = held_composite(services, account)
    first = services.composites.refresh(row.pk)
    assert first.status == "processing"
    clock.advance(seconds=119)
    assert services.composites.refresh(row.pk).status == "processing"
    assert entries_of(services.db, row.id) == [("composite", "held", 1)]
    clock.advance(seconds=2)
    ended = services.composites.refresh(row.pk)
    assert (ended.status, ended.error["code"], ended.credits_used) == (
        "failed",
        "compositor_unreachable",
        0,
    )
    assert services.composites.refresh(row.pk).status == "failed"  # settled: nothing moves
    assert entries_of(services.db, row.id) == [("composite", "released", 1)]
    assert month_totals(services.db, account.business_id) == (0, 0)
    services.close()


def test_the_watcher_fails_composites_past_their_deadline(make_services, provider, world, clock):
    account = world.account()
    services = services_with_silent_worker(make_services, provider, grace=10_000)
    late, fresh = (
        held_composite(services, account, deadline_sec=60),
        held_composite(services, account),
    )
    watcher = CompositeWatcher(services.composites, interval_sec=3600)
    clock.advance(seconds=61)
    assert watcher.tick() == 2
    assert services.composites.state(late.pk).error["code"] == "composite_timeout"
    assert services.composites.state(fresh.pk).status == "processing"
    assert entries_of(services.db, late.id) == [("composite", "released", 1)]
    assert month_totals(services.db, account.business_id) == (0, 1)
    assert watcher.tick() == 1  # only the fresh one is still followed
    services.close()
