"""Credits (CONTRACT §4): pure rules, the ledger under concurrency, UTC months, holds.

The ``world`` fixture asserts monthlyUsage.used == sum(creditsUsed of this month's non-failed
rows) after each of these tests, for every business it made.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from api.credits import rules
from api.credits.rules import MonthlyUsage
from api.db.models import VideoGeneration
from api.errors import CreditLimitExceeded, Forbidden
from api.ids import new_id
from tests.api.support import SEED_PROMPT

# -- pure rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "credits"), [(5, 1), (15, 2), (30, 4)])
def test_credits_by_duration(seconds, credits):
    assert rules.credits_for_duration(seconds) == credits


def test_unknown_duration_has_no_price():
    with pytest.raises(ValueError):
        rules.credits_for_duration(10)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (datetime(2026, 6, 9, 16, 20, tzinfo=UTC), (2026, 6, 1), (2026, 7, 1)),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), (2026, 12, 1), (2027, 1, 1)),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), (2027, 1, 1), (2027, 2, 1)),
        # 23:30 on 31 May in New York is already June in UTC: months are UTC months.
        (datetime.fromisoformat("2026-05-31T23:30:00-04:00"), (2026, 6, 1), (2026, 7, 1)),
    ],
)
def test_month_window_is_the_utc_calendar_month(now, start, end):
    assert rules.month_window(now) == (
        datetime(*start, tzinfo=UTC),
        datetime(*end, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("used", "held", "limit", "requested", "fits"),
    [(10, 0, 12, 2, True), (10, 1, 12, 2, False), (0, 0, 0, 1, False), (11, 0, 12, 1, True)],
)
def test_headroom_counts_used_held_and_requested(used, held, limit, requested, fits):
    usage = MonthlyUsage(used, held, limit)
    assert rules.has_headroom(usage, requested) is fits
    if not fits:
        with pytest.raises(CreditLimitExceeded) as raised:
            rules.require_headroom(usage, requested)
        assert raised.value.extra["creditsRequired"] == requested


def test_zero_credit_plan_is_plan_not_allowed():
    with pytest.raises(Forbidden) as raised:
        rules.require_video_plan(0)
    assert raised.value.code == "plan_not_allowed"


# -- the ledger ----------------------------------------------------------------------------


def test_twenty_parallel_creates_never_exceed_the_limit(api, world):
    """20 threads x 2 credits against 12: exactly 6 succeed, 14 get 429 (in-process; the
    multi-process version is in test_server.py)."""
    account = world.account(credits=12)
    barrier = threading.Barrier(20)

    def create(_: int) -> int:
        barrier.wait()
        return api.create(account.key, {"prompt": SEED_PROMPT, "duration": "15"}).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(create, range(20)))
    assert statuses.count(200) == 6 and statuses.count(429) == 14, statuses
    body = api.list(account.key, limit=50).json()
    assert body["monthlyUsage"] == {"used": 12, "limit": 12}
    assert body["total"] == 6


def test_failed_generation_releases_its_credits(api, world, provider):
    account = world.account(credits=4)
    created = api.create(account.key).json()
    assert created["monthlyUsage"]["used"] == 2
    provider.fail_with = "shot 2 would not render"
    assert api.services.worker.run_next()
    body = api.list(account.key).json()
    assert body["videos"][0]["status"] == "failed"
    assert body["videos"][0]["creditsUsed"] == 0
    assert body["monthlyUsage"]["used"] == 0
    with api.services.db.session() as session:
        row = session.query(VideoGeneration).one()
        assert (row.error_code, row.error_message) == ("fake_failure", "shot 2 would not render")
    # The released credits are headroom again.
    assert api.create(account.key, {"prompt": SEED_PROMPT, "duration": "30"}).status_code == 200


def test_a_new_utc_month_starts_from_zero(api, world, clock):
    account = world.account(credits=4)
    clock.set(datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))
    assert api.create(account.key).status_code == 200
    assert api.create(account.key).status_code == 200
    assert api.create(account.key).status_code == 429
    clock.set(datetime(2026, 7, 1, 0, 0, 0, tzinfo=UTC))
    body = api.list(account.key).json()
    assert body["monthlyUsage"] == {"used": 0, "limit": 4}
    assert body["total"] == 2  # last month's rows are still listed
    assert body["videos"][0]["creditsUsed"] == 2
    assert api.create(account.key).status_code == 200
    assert api.list(account.key).json()["monthlyUsage"]["used"] == 2


def test_a_hold_counts_as_headroom_and_settles_exactly_once(api, world):
    """The composite flow's primitives: hold at dispatch, charge once however often asked."""
    account = world.account(credits=3)
    ledger = api.services.ledger
    row = VideoGeneration(
        id=new_id("vg"),
        business_id=account.business_id,
        kind="composite",
        status="processing",
        prompt="Composite",
        duration_sec=15,
        aspect_ratio="16:9",
        attempts=0,
    )
    ledger.create_row(
        row, limit=3, credits=1, state="held", reason="composite",
        build_response=lambda r, usage: {"usage": usage.to_dict()},
    )  # fmt: skip
    assert ledger.usage(account.business_id, 3) == MonthlyUsage(used=0, held=1, limit=3)
    # 2 credits of generation fit beside the hold; a third credit would not.
    assert api.create(account.key).status_code == 200
    assert api.create(account.key, {"prompt": SEED_PROMPT, "duration": "5"}).status_code == 429
    with ThreadPoolExecutor(10) as pool:
        settled = list(pool.map(lambda _: ledger.settle_hold(row.pk), range(10)))
    assert settled.count(True) == 1
    assert ledger.usage(account.business_id, 3) == MonthlyUsage(used=3, held=0, limit=3)


def test_failing_a_row_twice_releases_once(api, world):
    account = world.account(credits=12)
    api.create(account.key)
    with api.services.db.session() as session:
        pk = session.query(VideoGeneration.pk).scalar()
    ledger = api.services.ledger
    results = [ledger.fail(pk, code="x", message="y") for _ in range(3)]
    assert results == [True, False, False]
    assert ledger.usage(account.business_id, 12).used == 0


def test_charging_captions_on_a_row_respects_headroom(api, world):
    account = world.account(credits=3)
    api.create(account.key)
    with api.services.db.session() as session:
        pk = session.query(VideoGeneration.pk).scalar()
    ledger = api.services.ledger
    assert ledger.charge_existing(account.business_id, pk, limit=3, credits=1, reason="captions")
    with pytest.raises(CreditLimitExceeded):
        ledger.charge_existing(account.business_id, pk, limit=3, credits=1, reason="captions")
    row = api.list(account.key).json()["videos"][0]
    assert row["creditsUsed"] == 3
