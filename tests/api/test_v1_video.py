"""The v1 routes through HTTP: the seed's shapes, defaults, listing rules, OpenAPI agreement."""

from __future__ import annotations

import re

from tests.api.contract import assert_documented
from tests.api.support import SEED_PROMPT


def test_create_answers_the_seed_shape_with_string_duration(api, world):
    account = world.account(credits=12)
    response = api.create(
        account.key, {"prompt": SEED_PROMPT, "duration": "15", "aspectRatio": "9:16"}
    )
    assert response.status_code == 200
    body = assert_documented(response, "POST", "/api/v1/video")
    assert re.fullmatch(r"vg_[A-Za-z0-9]{24}", body["id"])
    assert body["status"] == "processing"
    assert body["prompt"] == SEED_PROMPT
    assert (body["duration"], body["aspectRatio"]) == ("15", "9:16")
    assert body["creditsUsed"] == 2
    assert body["monthlyUsage"] == {"used": 2, "limit": 12}
    assert body["_receipt"]["generatedAt"] == "2026-06-09T16:20:00.000Z"


def test_duration_as_integer_is_echoed_as_a_string_and_priced(api, world):
    account = world.account(credits=12)
    for duration, credits in ((5, 1), (30, 4), ("5", 1)):
        body = api.create(account.key, {"prompt": SEED_PROMPT, "duration": duration}).json()
        assert body["duration"] == str(duration)
        assert body["creditsUsed"] == credits
    assert body["monthlyUsage"]["used"] == 6


def test_defaults_are_15_seconds_16_9_and_unknown_fields_are_ignored(api, world):
    account = world.account()
    body = api.create(account.key, {"prompt": "  Spring sale  ", "style": "x", "extra": [1]}).json()
    assert (body["duration"], body["aspectRatio"], body["prompt"]) == ("15", "16:9", "Spring sale")


def test_list_answers_the_seed_shape_newest_first(api, world):
    account = world.account(credits=50)
    ids = [api.create(account.key, {"prompt": f"Promo number {i}"}).json()["id"] for i in range(3)]
    response = api.list(account.key, limit=20, status="all")
    body = assert_documented(response, "GET", "/api/v1/video")
    assert [video["id"] for video in body["videos"]] == ids[::-1]
    first = body["videos"][0]
    assert first == {
        "id": ids[2],
        "prompt": "Promo number 2",
        "status": "processing",
        "videoUrl": None,
        "thumbnailUrl": None,
        "durationSeconds": 15,
        "creditsUsed": 2,
        "captions": [],
        "createdAt": "2026-06-09T16:20:00.000Z",
        "completedAt": None,
    }
    assert body["total"] == 3
    assert body["monthlyUsage"] == {"used": 6, "limit": 50}


def test_limit_defaults_to_20_and_values_over_50_are_clamped(api, world):
    account = world.account(credits=500)
    for _ in range(55):
        assert api.create(account.key, {"prompt": "Bulk promo", "duration": 5}).status_code == 200
    assert len(api.list(account.key).json()["videos"]) == 20
    clamped = api.list(account.key, limit=51).json()
    assert len(clamped["videos"]) == 50 and clamped["total"] == 55
    assert len(api.list(account.key, limit=10**30).json()["videos"]) == 50
    assert len(api.list(account.key, limit=1).json()["videos"]) == 1


def test_status_filter_and_total_count_only_matching_rows(api, world, provider):
    account = world.account(credits=50)
    for _ in range(3):
        api.create(account.key)
    assert api.services.worker.run_next()  # the oldest completes
    provider.fail_with = "no luck"
    assert api.services.worker.run_next()  # the next fails (credits released)
    counts = {
        status: api.list(account.key, status=status).json()["total"]
        for status in ("all", "completed", "processing", "failed")
    }
    assert counts == {"all": 3, "completed": 1, "processing": 1, "failed": 1}
    failed = api.list(account.key, status="failed").json()
    assert failed["videos"][0]["creditsUsed"] == 0
    assert failed["monthlyUsage"]["used"] == 4


def test_completed_rows_get_signed_media_urls_that_serve_the_files(api, world):
    account = world.account()
    created = api.create(account.key).json()
    assert api.services.worker.run_next()
    video = api.list(account.key, status="completed").json()["videos"][0]
    assert video["id"] == created["id"]
    assert video["completedAt"] == "2026-06-09T16:20:00.000Z"
    assert video["videoUrl"].startswith("http://testserver/api/media/generations/")
    assert "sig=" in video["videoUrl"] and "exp=" in video["videoUrl"]
    served = api.http.get(video["videoUrl"])
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert created["id"].encode() in served.content
    thumb = api.http.get(video["thumbnailUrl"])
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8")


def test_request_id_is_echoed_when_safe_and_replaced_when_not(api, world):
    account = world.account()
    echoed = api.http.get(
        "/api/v1/video", headers={"X-NearIQ-Key": account.key, "X-Request-Id": "client-42.a:b"}
    )
    assert echoed.headers["x-request-id"] == "client-42.a:b"
    unsafe = api.http.get(
        "/api/v1/video", headers={"X-NearIQ-Key": account.key, "X-Request-Id": "a b<script>"}
    )
    assert re.fullmatch(r"req_[A-Za-z0-9]{20}", unsafe.headers["x-request-id"])


def test_another_business_never_sees_foreign_rows(api, world):
    mine, theirs = world.account(), world.account()
    api.create(theirs.key)
    body = api.list(mine.key).json()
    assert body["videos"] == [] and body["total"] == 0
    assert body["monthlyUsage"]["used"] == 0


def test_openapi_document_is_served_and_valid(api):
    from openapi_spec_validator import validate

    response = api.http.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert {"post", "get"} <= set(document["paths"]["/api/v1/video"])


def test_health_reports_the_database_and_the_provider(api, provider):
    response = api.http.get("/api/health")
    assert assert_documented(response, "GET", "/api/health") == {
        "status": "ok", "generation": "available"
    }  # fmt: skip
    provider.healthy = False
    assert api.http.get("/api/health").json()["generation"] == "unavailable"
