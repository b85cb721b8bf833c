"""Completion callbacks: signed like requests, retried with backoff until delivered."""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from compositor.signing import verify_request
from compositor.worker.backoff import backoff_ms, jittered, retry_after_sec
from tests.worker.helpers import SECRET, preview_job, wait_until


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(0, 0), (1, 1000), (2, 2000), (3, 4000), (6, 32_000), (9, 256_000), (10, 300_000),
     (500, 300_000)],
)  # fmt: skip
def test_backoff_doubles_from_the_base_up_to_the_cap(attempt, expected):
    assert backoff_ms(attempt, base_ms=1000, max_ms=300_000) == expected


def test_jitter_keeps_at_least_half_of_the_delay_and_never_adds_to_it():
    rng = random.Random(7)
    delays = [jittered(1001, rng) for _ in range(1000)]
    assert min(delays) >= 500 and max(delays) <= 1001 and len(set(delays)) > 100


@pytest.mark.parametrize(
    ("slots", "mean", "expected"),
    [(1, 30.0, 30), (2, 30.0, 15), (4, 0.5, 1), (1, 5000.0, 600), (0, 30.0, 30)],
)
def test_retry_after_is_about_when_a_render_ends(slots, mean, expected):
    assert retry_after_sec(slots, mean) == expected


class Receiver:
    """Answers 503 to the first ``failures`` callbacks, then 200; keeps what it got."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, dict(self.headers), body))
                status = 503 if len(receiver.received) <= receiver.failures else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/compose?tenant=7"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_completion_callback_is_signed_and_retried_until_delivered(live_worker, media_server):
    receiver = Receiver(failures=2)
    try:
        worker = live_worker(callback_base_ms=50)
        job = preview_job("cb-1", media_server.url("/media/red.mp4"), seconds=2,
                          callbackUrl=receiver.url)  # fmt: skip
        assert worker.client.post(job).status_code == 202
        wait_until(lambda: worker.services.store.get("cb-1").callback_state == "delivered",
                   timeout=60)  # fmt: skip
        assert len(receiver.received) == 3
        path, headers, body = receiver.received[-1]
        assert path == "/hooks/compose?tenant=7"
        verify_request([SECRET], headers, "POST", path, body, now=time.time())
        status = json.loads(body)
        assert status["jobId"] == "cb-1" and status["status"] == "completed"
        assert status["url"].startswith(worker.base_url)
    finally:
        receiver.close()


def test_a_callback_is_sent_for_a_failed_job_too_and_given_up_after_the_attempts(
    live_worker, media_server
):
    receiver = Receiver(failures=100)
    try:
        worker = live_worker(callback_base_ms=20, callback_max_attempts=3)
        job = preview_job("cb-2", media_server.url("/media/nothing.mp4"),
                          callbackUrl=receiver.url)  # fmt: skip
        worker.client.post(job)
        wait_until(lambda: worker.services.store.get("cb-2").callback_state == "failed",
                   timeout=60)  # fmt: skip
        assert len(receiver.received) == 3
        assert json.loads(receiver.received[0][2])["error"]["code"] == "source_not_found"
    finally:
        receiver.close()
