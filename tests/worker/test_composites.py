"""GET/HEAD /composites/{name}: signed expiring links, Range, ETag, traversal, retention."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from compositor.signing import sign_link
from tests.worker.helpers import SECRET, preview_job, wait_until


@pytest.fixture
def rendered(live_worker, media_server):
    """A worker that has rendered one job, and that job's status."""
    worker = live_worker()
    job = preview_job("files-1", media_server.url("/media/red.mp4"), seconds=2, waitSec=30)
    body = worker.client.post(job).json()
    assert body["status"] == "completed", body
    return worker, body


def name_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def raw_get(base_url: str, path: str) -> int:
    """Send ``path`` byte for byte (HTTP clients normalize ``..`` away); the status code."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(4096).decode("latin-1")
    return int(head.split()[1])


def test_a_signed_link_serves_the_whole_file_with_an_etag(rendered):
    worker, body = rendered
    reply = httpx.get(body["url"])
    stored = worker.services.storage.path(name_of(body["url"])).read_bytes()
    assert reply.status_code == 200 and reply.content == stored
    assert reply.headers["accept-ranges"] == "bytes"
    assert reply.headers["etag"].startswith('"')


def test_a_range_request_gets_those_bytes_only(rendered):
    worker, body = rendered
    stored = worker.services.storage.path(name_of(body["url"])).read_bytes()
    reply = httpx.get(body["url"], headers={"Range": "bytes=100-299"})
    assert reply.status_code == 206
    assert reply.content == stored[100:300]
    assert reply.headers["content-range"] == f"bytes 100-299/{len(stored)}"
    tail = httpx.get(body["url"], headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == stored[-50:]


def test_head_answers_the_headers_of_get_without_a_body(rendered):
    _worker, body = rendered
    head = httpx.head(body["url"])
    get = httpx.get(body["url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


def test_a_matching_if_none_match_is_304(rendered):
    _worker, body = rendered
    etag = httpx.get(body["posterUrl"]).headers["etag"]
    again = httpx.get(body["posterUrl"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = httpx.get(body["posterUrl"], headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_an_expired_tampered_or_unsigned_link_is_403(rendered):
    worker, body = rendered
    name = name_of(body["url"])
    base = f"{worker.base_url}/composites/{name}"
    past = int(time.time()) - 1
    expired = f"{base}?exp={past}&sig={sign_link(SECRET, '/' + name, past)}"
    query = parse_qs(urlsplit(body["url"]).query)
    later = int(query["exp"][0]) + 1000
    stretched = f"{base}?exp={later}&sig={query['sig'][0]}"  # someone extends the expiry
    for url in (expired, stretched, base, f"{base}?exp={later}&sig=00"):
        reply = httpx.get(url)
        assert reply.status_code == 403, url
        assert reply.json()["error"]["code"] == "permission_denied"


def test_paths_that_try_to_leave_the_folder_are_404(rendered):
    worker, _body = rendered
    for path in (
        "/composites/../jobs.sqlite3",
        "/composites/..%2fjobs.sqlite3",
        "/composites/%2e%2e%2fjobs.sqlite3",
        "/composites/%2e%2e",
        "/composites/..%5cjobs.sqlite3",
        "/composites/%252e%252e%252fjobs.sqlite3",
        "/composites/....//jobs.sqlite3",
        "/composites/.ready",
        "/composites/jobs.sqlite3",
    ):
        assert raw_get(worker.base_url, path) == 404, path


def test_a_well_formed_name_that_was_never_made_is_404_even_when_signed(rendered):
    worker, _body = rendered
    name = "0" * 32 + ".mp4"
    url = worker.services.links.url(worker.base_url, name, now=time.time())
    assert httpx.get(url).status_code == 404


def test_public_composites_need_no_signature(live_worker, media_server):
    worker = live_worker(public_composites=True)
    job = preview_job("public-1", media_server.url("/media/red.mp4"), seconds=2, waitSec=30)
    body = worker.client.post(job).json()
    assert "?" not in body["url"]
    assert httpx.get(body["url"]).status_code == 200


def test_after_retention_nothing_about_the_job_is_served(rendered):
    worker, body = rendered
    path = worker.services.storage.path(name_of(body["url"]))
    assert path.is_file()
    record = worker.services.store.get("files-1")
    # not yet: one second before the retention ends, the sweep keeps everything
    assert worker.services.sweeper.sweep_once(now=record.expires_at - 1) == 0
    assert httpx.get(body["url"]).status_code == 200
    assert worker.services.sweeper.sweep_once(now=record.expires_at + 1) == 1
    assert not path.exists()
    assert worker.client.status("files-1").status_code == 404
    assert httpx.get(body["url"]).status_code == 404
    assert httpx.get(body["posterUrl"]).status_code == 404


def test_the_sweeper_runs_by_itself(live_worker, media_server):
    worker = live_worker(retention_sec=1, sweep_interval_sec=0.2)
    job = preview_job("swept-1", media_server.url("/media/red.mp4"), seconds=2, waitSec=30)
    assert worker.client.post(job).json()["status"] == "completed"
    wait_until(lambda: worker.client.status("swept-1").status_code == 404, timeout=30)
    wait_until(lambda: not list(worker.services.storage.list()), timeout=30)
