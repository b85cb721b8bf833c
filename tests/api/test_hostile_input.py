"""Hostile input: clear 4xx with a code and field, nothing half-written, nothing charged."""

from __future__ import annotations

import json

import pytest

from api.db.models import VideoGeneration
from tests.api.contract import assert_error


def rows(api) -> int:
    with api.services.db.session() as session:
        return session.query(VideoGeneration).count()


def test_exactly_64_kib_is_read_and_one_byte_more_is_413(api, world):
    account = world.account()
    base = json.dumps({"prompt": "Spring promo", "pad": ""}).encode()
    fits = base.replace(b'"pad": ""', b'"pad": "' + b"x" * (64 * 1024 - len(base)) + b'"')
    assert len(fits) == 64 * 1024
    assert api.create(account.key, fits).status_code == 200
    over = fits.replace(b'"pad": "', b'"pad": "x')
    assert_error(api.create(account.key, over), 413, "payload_too_large", "POST")


def test_a_lying_content_length_or_chunked_body_still_stops_at_64_kib(api, world):
    account = world.account()

    def chunks():
        yield b'{"prompt": "Spring promo", "pad": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = api.http.post(
        "/api/v1/video", content=chunks(), headers={"X-NearIQ-Key": account.key}
    )
    assert_error(response, 413, "payload_too_large", "POST")
    assert rows(api) == 0


def test_deeply_nested_json_is_invalid_json_not_a_crash(api, world):
    account = world.account()
    deep = b'{"prompt": "Spring promo", "x": ' + b"[" * 30000 + b"]" * 30000 + b"}"
    assert len(deep) < 64 * 1024
    assert_error(api.create(account.key, deep), 400, "invalid_json", "POST")


@pytest.mark.parametrize(
    "bad", ["Promo\x00 with NUL", "Promo \x07 bell", "Promo\x1b[31m red", "\x7fDEL promo"]
)
def test_control_characters_and_nul_are_invalid_prompt(api, world, bad):
    account = world.account()
    body = assert_error(api.create(account.key, {"prompt": bad}), 400, "invalid_prompt", "POST")
    assert body["error"]["field"] == "prompt"
    assert rows(api) == 0


def test_unpaired_surrogate_is_invalid_prompt(api, world):
    account = world.account()
    raw = b'{"prompt": "Promo \\ud800 broken"}'
    assert_error(api.create(account.key, raw), 400, "invalid_prompt", "POST")


def test_tabs_and_newlines_are_text(api, world):
    account = world.account()
    response = api.create(account.key, {"prompt": "Line one\n\tLine two"})
    assert response.status_code == 200
    assert response.json()["prompt"] == "Line one\n\tLine two"


def test_500_emoji_are_500_code_points_and_valid_501_are_not(api, world):
    account = world.account(credits=20)
    emoji = "🎬" * 500
    response = api.create(account.key, {"prompt": emoji})
    assert response.status_code == 200, response.text
    assert response.json()["prompt"] == emoji
    listed = api.list(account.key).json()["videos"][0]["prompt"]
    assert listed == emoji
    assert_error(api.create(account.key, {"prompt": emoji + "🎬"}), 400, "invalid_prompt", "POST")


def test_sql_looking_prompts_are_stored_verbatim(api, world):
    account = world.account(credits=20)
    prompt = "Robert'); DROP TABLE video_generations;-- \" OR 1=1 /* %s %% \\x00"
    created = api.create(account.key, {"prompt": prompt}).json()
    assert created["prompt"] == prompt
    listed = api.list(account.key).json()
    assert listed["videos"][0]["prompt"] == prompt and listed["total"] == 1


def test_huge_header_values_are_refused_cleanly(api, world):
    account = world.account()
    huge_key = api.list("niq_" + "A" * 20000)
    assert_error(huge_key, 401, "unauthorized", "GET")
    huge_request_id = api.http.get(
        "/api/v1/video", headers={"X-NearIQ-Key": account.key, "X-Request-Id": "r" * 20000}
    )
    assert huge_request_id.status_code == 200
    assert len(huge_request_id.headers["x-request-id"]) < 64
    huge_idem = api.create(account.key, None, **{"Idempotency-Key": "k" * 5000})
    assert_error(huge_idem, 400, "invalid_field", "POST")
    assert rows(api) == 0


def test_query_strings_with_injection_and_repeats_are_plain_values(api, world):
    account = world.account()
    response = api.http.get(
        "/api/v1/video?status=all'%20OR%20'1'='1&limit=5", headers={"X-NearIQ-Key": account.key}
    )
    assert_error(response, 400, "invalid_status", "GET")
