"""Bad input on the dashboard routes, through the real API: a 4xx with a code and the failing
field, never a 500, and nothing held or written (both databases)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from compositor.signing import sign_request
from tests.api.contract import assert_error
from tests.api.dashboard.helpers import composite_rows, month_totals, seed_source
from tests.worker.helpers import SECRET

VIDEO = "/api/businesses/me/video"
CASES = [
    ("/api/auth/session", {"email": 5, "password": "x"}, 400, "email"),
    ("/api/auth/session", {"email": "a@b.c"}, 400, "password"),
    ("/api/auth/active-business", {"businessId": ["biz"]}, 400, "businessId"),
    (VIDEO, {"prompt": "Fine prompt", "style": ""}, 400, "style"),
    (VIDEO, {"prompt": "Fine prompt", "audioConfig": {"pitch": "high"}}, 400, "audioConfig.pitch"),
    (f"{VIDEO}/captions", {"videoId": 7}, 400, "videoId"),
    (f"{VIDEO}/captions", {"videoId": "{source}", "burnIn": "yes"}, 400, "burnIn"),
    (f"{VIDEO}/captions", {"videoId": "{source}", "script": "a\x00b"}, 400, "script"),
    (f"{VIDEO}/captions", {"videoId": "{source}", "script": "   "}, 400, "script"),
    (f"{VIDEO}/composite", {}, 400, "videoId"),
    (f"{VIDEO}/composite", {"videoId": "{source}", "voice": "robot"}, 400, "voice"),
    (f"{VIDEO}/composite", {"videoId": "{source}", "musicTrack": 3}, 400, "musicTrack"),
    (f"{VIDEO}/composite", {"videoId": "{source}", "audioConfig": [1]}, 400, "audioConfig"),
    (f"{VIDEO}/composite", {"videoId": "{source}", "captionCues": "cue"}, 400, "captionCues"),
    (
        f"{VIDEO}/composite",
        {"videoId": "{source}", "textOverlays": [{"text": "x"}]},
        400,
        "textOverlays[0].startSec",
    ),
    (
        f"{VIDEO}/composite",
        {
            "videoId": "{source}",
            "textOverlays": [{"text": "x", "startSec": 1, "endSec": 2, "position": "left"}],
        },
        400,
        "textOverlays[0].position",
    ),
    (f"{VIDEO}/composite", {"videoId": "{source}", "burnIn": 1}, 400, "burnIn"),
    (f"{VIDEO}/composite-clips", {"clipIds": "vg_a"}, 400, "clipIds"),
    (f"{VIDEO}/composite-clips", {"clipIds": [None]}, 400, "clipIds[0]"),
    (
        f"{VIDEO}/composite-clips",
        {"clipIds": ["{source}"], "transition": "fade"},
        400,
        "transition",
    ),
    (
        f"{VIDEO}/composite-clips",
        {"clipIds": ["{source}"], "transition": {"type": "wipe"}},
        400,
        "transition.type",
    ),
    (f"{VIDEO}/composite-clips", {"clipIds": ["{source}"], "style": "loud"}, 400, "style"),
]


@pytest.mark.parametrize(("path", "body", "status", "field"), CASES)
def test_bad_fields_are_named_and_nothing_is_held(
    stack, world, source_media, path, body, status, field
):
    account = world.account(credits=12, watermark=False)
    client = stack.signed_in(account)
    source = seed_source(stack.db, stack.storage, account, source_media.red)
    sent = json.loads(json.dumps(body).replace("{source}", source))
    reply = client.post(path, json=sent)
    code = assert_error(reply, status, reply.json()["error"]["code"], "POST", path)
    assert code["error"]["field"] == field, code
    assert composite_rows(stack.db, account.business_id) == []
    assert month_totals(stack.db, account.business_id) == (0, 0)


def test_bodies_that_are_not_json_objects_or_too_big_are_refused(stack, world):
    client = stack.signed_in(world.account())
    for raw in (b"[]", b"{", b'{"videoId": NaN}', "é".encode("latin-1")):
        reply = client.post(
            f"{VIDEO}/composite", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_error(reply, 400, "invalid_json", "POST", f"{VIDEO}/composite")
    big = client.post(f"{VIDEO}/captions", content=b'{"script": "' + b"a" * 70_000 + b'"}')
    assert_error(big, 413, "payload_too_large", "POST", f"{VIDEO}/captions")


def test_callbacks_must_be_signed_by_a_shared_secret(stack):
    path = "/api/compositor/callback"
    body = json.dumps({"jobId": "cmp_unknown", "status": "completed"}).encode()

    def send(secret: str, signed_body: bytes = body) -> httpx.Response:
        headers = sign_request(secret, int(time.time()), "POST", path, signed_body)
        return httpx.post(
            f"{stack.base}{path}",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )

    assert_error(send("not-the-secret"), 401, "bad_signature", "POST", path)
    assert_error(send(SECRET, b"{}"), 401, "bad_signature", "POST", path)  # body changed
    unsigned = httpx.post(f"{stack.base}{path}", content=body)
    assert_error(unsigned, 401, "bad_signature", "POST", path)
    assert_error(send(SECRET), 404, "not_found", "POST", path)  # signed, but no such job
