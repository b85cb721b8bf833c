"""Idempotency-Key: replays return the first response and charge nothing; another body: 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.api.contract import assert_documented, assert_error
from tests.api.support import PASSWORD, SEED_PROMPT

BODY = {"prompt": SEED_PROMPT, "duration": "15", "aspectRatio": "9:16"}


def test_same_key_and_body_returns_the_first_response_and_charges_once(api, world):
    account = world.account(credits=12)
    first = api.create(account.key, BODY, **{"Idempotency-Key": "order-1"})
    again = api.create(account.key, dict(reversed(BODY.items())), **{"Idempotency-Key": "order-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert_documented(again, "POST", "/api/v1/video")
    listed = api.list(account.key).json()
    assert listed["total"] == 1 and listed["monthlyUsage"]["used"] == 2


def test_same_key_with_another_body_is_409(api, world):
    account = world.account()
    api.create(account.key, BODY, **{"Idempotency-Key": "order-2"})
    other = api.create(account.key, {**BODY, "duration": "5"}, **{"Idempotency-Key": "order-2"})
    assert_error(other, 409, "idempotency_conflict", "POST")
    assert api.list(account.key).json()["monthlyUsage"]["used"] == 2


def test_keys_are_per_business(api, world):
    one, two = world.account(), world.account()
    a = api.create(one.key, BODY, **{"Idempotency-Key": "shared"}).json()
    b = api.create(two.key, BODY, **{"Idempotency-Key": "shared"}).json()
    assert a["id"] != b["id"]


def test_a_key_expires_after_24_hours(api, world, clock):
    account = world.account()
    first = api.create(account.key, BODY, **{"Idempotency-Key": "daily"}).json()
    clock.advance(hours=23, minutes=59)
    assert api.create(account.key, BODY, **{"Idempotency-Key": "daily"}).json() == first
    clock.advance(minutes=2)
    later = api.create(account.key, BODY, **{"Idempotency-Key": "daily"}).json()
    assert later["id"] != first["id"]
    assert api.list(account.key).json()["monthlyUsage"]["used"] == 4


def test_refused_requests_are_not_recorded(api, world, provider):
    account = world.account()
    provider.healthy = False
    assert api.create(account.key, BODY, **{"Idempotency-Key": "retry-me"}).status_code == 503
    provider.healthy = True
    assert api.create(account.key, BODY, **{"Idempotency-Key": "retry-me"}).status_code == 200


def test_a_repeat_is_answered_while_the_provider_is_down(api, world, provider):
    account = world.account()
    first = api.create(account.key, BODY, **{"Idempotency-Key": "before-outage"})
    provider.healthy = False
    again = api.create(account.key, BODY, **{"Idempotency-Key": "before-outage"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert api.create(account.key, BODY, **{"Idempotency-Key": "new"}).status_code == 503


def test_a_dashboard_repeat_is_answered_while_the_provider_is_down(api, world, provider):
    account = world.account()
    dashboard = {"Origin": "http://testserver"}
    session = api.http.post(
        "/api/auth/session", json={"email": account.user_email, "password": PASSWORD},
        headers=dashboard,
    )  # fmt: skip
    assert session.status_code == 200, session.text

    def create(key: str):
        return api.http.post(
            "/api/businesses/me/video", json={"prompt": SEED_PROMPT},
            headers={**dashboard, "Idempotency-Key": key},
        )  # fmt: skip

    first = create("bundle-1")
    provider.healthy = False
    again = create("bundle-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert_error(create("bundle-2"), 503, "video_generation_unavailable", "POST",
                 "/api/businesses/me/video")  # fmt: skip


def test_parallel_repeats_of_one_key_create_one_row(api, world):
    account = world.account(credits=40)
    barrier = threading.Barrier(10)

    def send(_: int) -> str:
        barrier.wait()
        response = api.create(account.key, BODY, **{"Idempotency-Key": "burst"})
        assert response.status_code == 200, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(10) as pool:
        ids = set(pool.map(send, range(10)))
    assert len(ids) == 1
    assert api.list(account.key).json()["monthlyUsage"]["used"] == 2
