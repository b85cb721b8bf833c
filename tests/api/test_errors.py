"""Every error of CONTRACT §2 that the v1 routes can answer, reached through HTTP, and the
check order on a create: auth -> scope -> active business -> team permission -> plan -> body
-> provider -> credits."""

from __future__ import annotations

import pytest

from tests.api.contract import assert_error
from tests.api.support import SEED_PROMPT

GOOD = {"prompt": SEED_PROMPT, "duration": "15", "aspectRatio": "9:16"}


def test_no_key_unknown_key_and_revoked_key_are_401(api, world):
    account = world.account()
    assert_error(api.create(None, GOOD), 401, "unauthorized", "POST")
    assert_error(api.list("niq_" + "x" * 32), 401, "unauthorized", "GET")
    assert api.list(account.key).status_code == 200
    world.admin.revoke_key(account.key[:12])
    assert_error(api.list(account.key), 401, "unauthorized", "GET")
    assert_error(api.create(account.key, GOOD), 401, "unauthorized", "POST")


def test_write_scope_without_read_cannot_list_and_read_cannot_create(api, world):
    writer = world.account(scopes=("content:write",))
    reader = world.account(scopes=("content:read",))
    assert api.create(writer.key, GOOD).status_code == 200
    assert_error(api.list(writer.key), 403, "insufficient_scope", "GET")
    assert_error(api.create(reader.key, GOOD), 403, "insufficient_scope", "POST")
    assert api.list(reader.key).status_code == 200


def test_inactive_business_is_400_missing_active_business(api, world):
    account = world.account(active=False)
    assert_error(api.create(account.key, GOOD), 400, "missing_active_business", "POST")
    assert_error(api.list(account.key), 400, "missing_active_business", "GET")


def test_team_member_without_create_video_is_403_but_may_list(api, world):
    member = world.account(team_permissions=())
    assert_error(api.create(member.key, GOOD), 403, "permission_denied", "POST")
    assert api.list(member.key).status_code == 200
    allowed = world.account(team_permissions=("create_video",))
    assert api.create(allowed.key, GOOD).status_code == 200


def test_plan_without_video_credits_is_403_plan_not_allowed(api, world):
    account = world.account(credits=0)
    body = assert_error(api.create(account.key, GOOD), 403, "plan_not_allowed", "POST")
    assert body["error"]["field"] is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"duration": "15"}, "invalid_prompt", "prompt"),
        ({"prompt": "abcd"}, "invalid_prompt", "prompt"),
        ({"prompt": "    abcd    "}, "invalid_prompt", "prompt"),
        ({"prompt": "x" * 501}, "invalid_prompt", "prompt"),
        ({"prompt": 12345}, "invalid_prompt", "prompt"),
        ({"prompt": SEED_PROMPT, "duration": "10"}, "invalid_duration", "duration"),
        ({"prompt": SEED_PROMPT, "duration": 15.0}, "invalid_duration", "duration"),
        ({"prompt": SEED_PROMPT, "duration": True}, "invalid_duration", "duration"),
        ({"prompt": SEED_PROMPT, "duration": None}, "invalid_duration", "duration"),
        ({"prompt": SEED_PROMPT, "aspectRatio": "4:3"}, "invalid_aspect_ratio", "aspectRatio"),
        ({"prompt": SEED_PROMPT, "aspectRatio": 1}, "invalid_aspect_ratio", "aspectRatio"),
    ],
)
def test_invalid_body_fields_name_the_field(api, world, body, code, field):
    account = world.account()
    answer = assert_error(api.create(account.key, body), 400, code, "POST")
    assert answer["error"]["field"] == field


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[1, 2]", b'"text"', b"null", b'{"prompt": NaN}', b"\xff\xfe{}"]
)
def test_non_json_or_non_object_bodies_are_invalid_json(api, world, raw):
    account = world.account()
    response = api.http.post(
        "/api/v1/video",
        content=raw,
        headers={"X-NearIQ-Key": account.key, "Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_json", "POST")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "-1"}, "invalid_limit"),
        ({"limit": "2.5"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"limit": ""}, "invalid_limit"),
        ({"status": "done"}, "invalid_status"),
        ({"status": ""}, "invalid_status"),
    ],
)
def test_bad_list_queries_are_400(api, world, params, code):
    account = world.account()
    answer = assert_error(api.list(account.key, **params), 400, code, "GET")
    assert answer["error"]["field"] == next(iter(params))


def test_bad_idempotency_key_header_is_invalid_field(api, world):
    account = world.account()
    response = api.create(account.key, GOOD, **{"Idempotency-Key": "has spaces in it"})
    answer = assert_error(response, 400, "invalid_field", "POST")
    assert answer["error"]["field"] == "headers.Idempotency-Key"


def test_body_over_64_kib_is_413_and_charges_nothing(api, world):
    account = world.account()
    big = {"prompt": SEED_PROMPT, "padding": "x" * (64 * 1024)}
    assert_error(api.create(account.key, big), 413, "payload_too_large", "POST")
    assert api.list(account.key).json()["monthlyUsage"]["used"] == 0


def test_provider_down_is_503_before_any_credit_moves(api, world, provider):
    account = world.account(credits=2)
    provider.healthy = False
    assert_error(api.create(account.key, GOOD), 503, "video_generation_unavailable", "POST")
    body = api.list(account.key).json()
    assert body["total"] == 0 and body["monthlyUsage"]["used"] == 0


def test_none_provider_is_503(make_services, world):
    from starlette.testclient import TestClient

    from api.app import create_app
    from api.generation.none import NoneProvider

    account = world.account()
    services = make_services(NoneProvider())
    with TestClient(create_app(services, run_worker=False)) as client:
        response = client.post("/api/v1/video", json=GOOD, headers={"X-NearIQ-Key": account.key})
    assert_error(response, 503, "video_generation_unavailable", "POST")


def test_over_the_limit_is_429_with_usage_and_credits_required(api, world):
    account = world.account(credits=3)
    assert api.create(account.key, GOOD).status_code == 200
    body = assert_error(api.create(account.key, GOOD), 429, "credit_limit_exceeded", "POST")
    assert body["monthlyUsage"] == {"used": 2, "limit": 3}
    assert body["creditsRequired"] == 2
    assert api.create(account.key, {**GOOD, "duration": "5"}).status_code == 200


def test_unknown_route_is_404_not_found_with_receipt(api):
    response = api.http.get("/api/v2/video")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found" and body["_receipt"]["requestId"]
    assert response.headers["x-request-id"] == body["_receipt"]["requestId"]


def test_media_link_forged_or_expired_is_401_bad_signature_and_unknown_file_404(api, world):
    account = world.account()
    api.create(account.key)
    api.services.worker.run_next()
    url = api.list(account.key).json()["videos"][0]["videoUrl"]
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert_error(api.http.get(forged), 401, "bad_signature", "GET", "/api/media/{key}")
    unsigned = url.split("?")[0]
    assert_error(api.http.get(unsigned), 401, "bad_signature", "GET", "/api/media/{key}")
    storage = api.services.storage
    missing = storage.url("generations/vg_nope/preview.mp4", expires_in=60)
    assert_error(api.http.get(missing), 404, "not_found", "GET", "/api/media/{key}")
    expired = storage.url("generations/x/preview.mp4", expires_in=-10)
    assert_error(api.http.get(expired), 401, "bad_signature", "GET", "/api/media/{key}")


# -- the check order ------------------------------------------------------------------------


def test_auth_comes_before_everything(api, world, provider):
    provider.healthy = False
    assert_error(api.create(None, b"not json"), 401, "unauthorized", "POST")


def test_scope_comes_before_inactive_business(api, world):
    account = world.account(scopes=("content:read",), active=False)
    assert_error(api.create(account.key, GOOD), 403, "insufficient_scope", "POST")


def test_inactive_business_comes_before_team_permission(api, world):
    account = world.account(team_permissions=(), active=False)
    assert_error(api.create(account.key, GOOD), 400, "missing_active_business", "POST")


def test_team_permission_comes_before_plan(api, world):
    account = world.account(team_permissions=(), credits=0)
    assert_error(api.create(account.key, GOOD), 403, "permission_denied", "POST")


def test_plan_comes_before_body(api, world):
    account = world.account(credits=0)
    assert_error(api.create(account.key, {"prompt": 1}), 403, "plan_not_allowed", "POST")


def test_body_comes_before_provider(api, world, provider):
    account = world.account()
    provider.healthy = False
    assert_error(api.create(account.key, {"prompt": "no"}), 400, "invalid_prompt", "POST")
    assert provider.checks == 0


def test_provider_comes_before_credits(api, world, provider):
    account = world.account(credits=1)
    provider.healthy = False
    assert_error(api.create(account.key, GOOD), 503, "video_generation_unavailable", "POST")
