"""Dashboard sessions through the real API, on both databases: the cookie, CSRF by origin, API
keys refused, expiry and sign-out, the active business and team permissions (CONTRACT §2, §5).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from itsdangerous import TimestampSigner
from sqlalchemy import update
from starlette.testclient import TestClient

from api.app import create_app
from api.dashboard.sessions import SIGNER_SALT
from api.db.models import AppSession, TeamMembership
from tests.api.contract import assert_documented, assert_error
from tests.api.dashboard.helpers import API_SECRET, seed_source
from tests.api.support import PASSWORD

SESSION = "/api/auth/session"
VIDEO = "/api/businesses/me/video"
PROMPT = {"prompt": "Spring sale on running shoes", "duration": "5"}


def sign_in(stack, email: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base}{SESSION}",
        json={"email": email, "password": PASSWORD},
        headers={"Origin": stack.base, **headers},
    )


def test_sign_in_sets_a_signed_http_only_lax_cookie_that_expires(stack, world):
    account = world.account()
    reply = sign_in(stack, account.user_email)
    body = assert_documented(reply, "POST", SESSION)
    assert body["activeBusinessId"] == account.business_id
    assert [b["id"] for b in body["businesses"]] == [account.business_id]
    cookie = reply.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "expires", "path"} <= attributes
    assert "samesite=lax" in cookie.lower() and "secure" not in attributes
    assert "Max-Age=604800" in cookie
    wrong = httpx.post(
        f"{stack.base}{SESSION}", json={"email": account.user_email, "password": "nope"}
    )
    unknown = httpx.post(
        f"{stack.base}{SESSION}", json={"email": "who@example.com", "password": PASSWORD}
    )
    assert (
        assert_error(wrong, 401, "unauthorized", "POST", SESSION)["error"]["message"]
        == (assert_error(unknown, 401, "unauthorized", "POST", SESSION)["error"]["message"])
    )
    assert_error(
        sign_in(stack, account.user_email, Origin="https://evil.example"),
        403,
        "csrf_failed",
        "POST",
        SESSION,
    )


def test_cookie_writes_need_a_dashboard_origin(stack, world):
    account = world.account()
    client = stack.signed_in(account)
    foreign = client.post(VIDEO, json=PROMPT, headers={"Origin": "https://evil.example"})
    assert_error(foreign, 403, "csrf_failed", "POST", VIDEO)
    bare = httpx.post(f"{stack.base}{VIDEO}", json=PROMPT, cookies=client.cookies)
    assert_error(bare, 403, "csrf_failed", "POST", VIDEO)
    sneaky = client.post(VIDEO, json=PROMPT, headers={"Origin": f"{stack.base}.evil.example"})
    assert_error(sneaky, 403, "csrf_failed", "POST", VIDEO)
    by_referer = httpx.post(
        f"{stack.base}{VIDEO}",
        json=PROMPT,
        cookies=client.cookies,
        headers={"Referer": f"{stack.base}/studio?tab=video"},
    )
    assert by_referer.status_code == 200, by_referer.text
    assert_error(
        client.delete(SESSION, headers={"Origin": "https://evil.example"}),
        403,
        "csrf_failed",
        "DELETE",
        SESSION,
    )


def test_api_keys_are_refused_on_dashboard_routes(stack, world):
    account = world.account()
    client = stack.signed_in(account)
    key_only = httpx.get(
        f"{stack.base}{VIDEO}", params={"id": "vg_x"}, headers={"X-NearIQ-Key": account.key}
    )
    assert_error(key_only, 401, "unauthorized", "GET", VIDEO)
    both = client.post(VIDEO, json=PROMPT, headers={"X-NearIQ-Key": account.key})
    assert_error(both, 401, "unauthorized", "POST", VIDEO)
    nothing = httpx.post(f"{stack.base}{VIDEO}", json=PROMPT, headers={"Origin": stack.base})
    assert_error(nothing, 401, "unauthorized", "POST", VIDEO)


def test_expired_revoked_and_forged_sessions_are_refused(stack, world):
    account = world.account()
    client = stack.signed_in(account)
    assert client.get(VIDEO, params={"id": "vg_missing"}).status_code == 404  # signed in

    with stack.db.session() as session:  # the session's own expiry has passed
        session.execute(update(AppSession).values(expires_at=datetime.now(UTC) - timedelta(1)))
    assert_error(client.get(VIDEO, params={"id": "vg_missing"}), 401, "unauthorized", "GET", VIDEO)

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((datetime.now(UTC) - timedelta(days=8)).timestamp())

    fresh = stack.signed_in(account)
    token = (
        TimestampSigner(API_SECRET, salt=SIGNER_SALT)
        .unsign(fresh.cookies["neariq_session"])
        .decode()
    )
    old = SignedLongAgo(API_SECRET, salt=SIGNER_SALT).sign(token).decode()
    stale = httpx.get(
        f"{stack.base}{VIDEO}", params={"id": "vg_missing"}, cookies={"neariq_session": old}
    )
    assert "expired" in assert_error(stale, 401, "unauthorized", "GET", VIDEO)["error"]["message"]
    forged = httpx.get(
        f"{stack.base}{VIDEO}",
        params={"id": "vg_missing"},
        cookies={"neariq_session": token + ".AAAAAA.forged"},
    )
    assert_error(forged, 401, "unauthorized", "GET", VIDEO)

    copy = dict(fresh.cookies)
    assert_documented(fresh.delete(SESSION), "DELETE", SESSION)
    after = httpx.get(f"{stack.base}{VIDEO}", params={"id": "vg_missing"}, cookies=copy)
    assert_error(after, 401, "unauthorized", "GET", VIDEO)


def test_the_active_business_is_one_the_user_may_act_for(stack, world, source_media):
    account = world.account()
    second = world.admin.create_business(
        "Second Gym", plan=account.plan_name, owner_email=account.user_email
    )
    world.businesses.append(second)
    stranger = world.account()
    client = stack.signed_in(account)
    switch = "/api/auth/active-business"
    assert_error(
        client.post(switch, json={"businessId": stranger.business_id}),
        404,
        "not_found",
        "POST",
        switch,
    )
    moved = assert_documented(client.post(switch, json={"businessId": second}), "POST", switch)
    assert moved["activeBusiness"]["id"] == second
    created = client.post(VIDEO, json=PROMPT).json()["video"]["id"]
    v1 = httpx.get(f"{stack.base}/api/v1/video", headers={"X-NearIQ-Key": account.key})
    assert created not in [video["id"] for video in v1.json()["videos"]]  # not the key's business
    theirs = seed_source(stack.db, stack.storage, stranger, source_media.red)
    assert_error(client.get(VIDEO, params={"id": theirs}), 404, "not_found", "GET", VIDEO)


def test_team_members_need_create_video_and_membership(stack, world, source_media):
    viewer = world.account(team_permissions=("manage_billing",))
    maker = world.account(team_permissions=("create_video",))
    viewer_client, maker_client = stack.signed_in(viewer), stack.signed_in(maker)
    video = seed_source(stack.db, stack.storage, viewer, source_media.red)
    for path, body in (
        (VIDEO, PROMPT),
        (f"{VIDEO}/captions", {"videoId": video}),
        (f"{VIDEO}/composite", {"videoId": video}),
        (f"{VIDEO}/composite-clips", {"clipIds": [video]}),
    ):
        assert_error(viewer_client.post(path, json=body), 403, "permission_denied", "POST", path)
    assert viewer_client.get(VIDEO, params={"id": video}).status_code == 200  # reading is fine
    assert maker_client.post(VIDEO, json=PROMPT).status_code == 200
    with stack.db.session() as session:
        session.execute(
            update(TeamMembership)
            .where(TeamMembership.team_id == maker.team_id)
            .values(permissions=[])
            .execution_options(synchronize_session=False)
        )
    assert_error(maker_client.post(VIDEO, json=PROMPT), 403, "permission_denied", "POST", VIDEO)


def test_a_user_without_a_business_has_no_active_business(stack, world):
    email = world.user()
    reply = sign_in(stack, email)
    assert reply.json()["activeBusinessId"] is None
    create = httpx.post(
        f"{stack.base}{VIDEO}", json=PROMPT, cookies=reply.cookies, headers={"Origin": stack.base}
    )
    assert_error(create, 400, "missing_active_business", "POST", VIDEO)


def test_the_cookie_is_secure_when_configured(make_services, provider, world):
    account = world.account()
    services = make_services(provider, session_cookie_secure=True, session_ttl_sec=3600)
    with TestClient(create_app(services, run_worker=False), base_url="https://testserver") as app:
        reply = app.post(SESSION, json={"email": account.user_email, "password": PASSWORD})
    assert reply.status_code == 200
    cookie = reply.headers["set-cookie"]
    assert "; secure" in cookie.lower() and "Max-Age=3600" in cookie
