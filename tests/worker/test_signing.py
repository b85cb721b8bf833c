"""Request signing (CONTRACT §6) as the worker enforces it, over real HTTP."""

from __future__ import annotations

import json
import time

import pytest

from compositor.signing import BadSignature, sign_request, verify_request
from compositor.worker.settings import WorkerSettings
from tests.worker.helpers import OLD_SECRET, SECRET, preview_job

BODY = json.dumps(preview_job("sig-1", "http://127.0.0.1:9/red.mp4")).encode()


@pytest.fixture
def worker(live_worker):
    return live_worker(render_slots=0)  # signatures only: nothing needs to render


def aged(tamper: dict) -> dict:
    """``age`` (seconds before now) becomes the timestamp when the request is sent."""
    if "age" in tamper:
        return {"timestamp": int(time.time()) - tamper["age"]}
    return tamper


def assert_bad_signature(reply) -> None:
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "bad_signature"


@pytest.mark.parametrize(
    "tamper",
    [
        {"sign": False},
        {"age": 301},  # a replay after more than 300 s
        {"age": -301},  # a clock far ahead
        {"signed_body": BODY.replace(b"sig-1", b"sig-2")},
        {"signed_path": "/compose/other"},
        {"secret": "not-the-secret"},
    ],
    ids=["missing", "expired", "future", "tampered-body", "tampered-path", "wrong-secret"],
)
def test_a_badly_signed_post_is_401_and_nothing_is_queued(worker, tamper):
    assert_bad_signature(worker.client.request("POST", "/compose", BODY, **aged(tamper)))
    assert worker.services.store.get("sig-1") is None


@pytest.mark.parametrize(
    "tamper",
    [{"sign": False}, {"age": 301}, {"signed_path": "/compose/sig-2"},
     {"secret": "not-the-secret"}, {"signed_body": b"x"}],
    ids=["missing", "expired", "tampered-path", "wrong-secret", "tampered-body"],
)  # fmt: skip
def test_a_badly_signed_status_request_is_401(worker, tamper):
    worker.client.post(json.loads(BODY))
    assert_bad_signature(worker.client.request("GET", "/compose/sig-1", **aged(tamper)))


def test_the_query_string_is_part_of_what_is_signed(worker):
    worker.client.post(json.loads(BODY))
    reply = worker.client.request("GET", "/compose/sig-1?x=1", signed_path="/compose/sig-1")
    assert_bad_signature(reply)
    assert worker.client.request("GET", "/compose/sig-1?x=1").status_code == 200


def test_a_request_signed_with_the_previous_secret_is_accepted_during_rotation(worker):
    reply = worker.client.request("POST", "/compose", BODY, secret=OLD_SECRET)
    assert reply.status_code == 202, reply.text
    assert worker.client.request("GET", "/compose/sig-1", secret=OLD_SECRET).status_code == 200


def test_a_request_within_the_window_is_accepted(worker):
    reply = worker.client.request("POST", "/compose", BODY, timestamp=int(time.time()) - 290)
    assert reply.status_code == 202, reply.text


def test_secrets_are_read_from_a_file_one_per_line(tmp_path, monkeypatch):
    secret_file = tmp_path / "secrets"
    secret_file.write_text("from-a-file\nolder-one\n")
    monkeypatch.delenv("COMPOSITOR_SECRETS", raising=False)
    monkeypatch.setenv("COMPOSITOR_SECRETS_FILE", str(secret_file))
    settings = WorkerSettings()
    assert settings.secret_list == ("from-a-file", "older-one")
    assert settings.link_secret_list == settings.secret_list  # links default to the same


def test_verify_request_checks_each_part_of_the_message():
    now = 1_800_000_000
    headers = sign_request(SECRET, now, "POST", "/compose?a=1", b"{}")
    verify_request([SECRET], headers, "post", "/compose?a=1", b"{}", now=now + 300)
    for changed in (
        dict(headers=headers, method="PUT", path="/compose?a=1", body=b"{}", now=now),
        dict(headers=headers, method="POST", path="/compose", body=b"{}", now=now),
        dict(headers=headers, method="POST", path="/compose?a=1", body=b"{ }", now=now),
        dict(headers=headers, method="POST", path="/compose?a=1", body=b"{}", now=now + 301),
        dict(headers={**headers, "X-Compositor-Signature": "v2=" + "0" * 64}, method="POST",
             path="/compose?a=1", body=b"{}", now=now),
    ):  # fmt: skip
        with pytest.raises(BadSignature):
            verify_request([SECRET], changed["headers"], changed["method"], changed["path"],
                           changed["body"], now=changed["now"])  # fmt: skip
