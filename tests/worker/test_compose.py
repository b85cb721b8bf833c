"""POST /compose and GET /compose/{id} over real HTTP: answers, lifecycle, idempotency, limits."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.mediatools import video_info
from tests.worker.helpers import preview_job, wait_until

LIFECYCLE = ["queued", "fetching", "rendering", "verifying", "completed"]


def metric(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in metrics"
    return float(match.group(1))


def test_a_waited_for_job_answers_200_with_a_verified_file(live_worker, media_server, tmp_path):
    worker = live_worker()
    job = preview_job("sync-1", media_server.url("/media/red.mp4"),
                      media_server.url("/media/blue.mp4"), seconds=4, waitSec=30)  # fmt: skip
    reply = worker.client.post(job)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["jobId"] == "sync-1" and body["status"] == "completed"
    assert (body["width"], body["height"]) == (960, 540)
    assert abs(body["durationSec"] - 4) <= 0.1
    assert body["verification"]["targetSec"] == 4
    video = httpx.get(body["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    (tmp_path / "out.mp4").write_bytes(video.content)
    info = video_info(tmp_path / "out.mp4")
    assert (info["codec"], info["width"], info["height"]) == ("h264", 960, 540)
    assert (info["audio_codec"], info["sample_rate"], info["channels"]) == ("aac", 48000, 2)
    poster = httpx.get(body["posterUrl"])
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"  # a JPEG


def test_an_unwaited_job_answers_202_and_reports_its_stages_and_progress(live_worker, media_server):
    worker = live_worker()
    reply = worker.client.post(preview_job("async-1", media_server.url("/media/red_long.mp4"),
                                           seconds=9))  # fmt: skip
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["status"] == "processing" and body["stage"] in LIFECYCLE
    assert body["statusUrl"].endswith("/compose/async-1")
    seen: list[tuple[str, float]] = []

    def finished() -> bool:
        status = worker.client.status("async-1").json()
        seen.append((status["stage"], status["progress"]))
        return status["status"] != "processing"

    wait_until(finished, timeout=90, every=0.05)
    stages = [stage for stage, _ in seen]
    progress = [value for _, value in seen]
    assert stages[-1] == "completed" and progress[-1] == 1.0
    # stages only move forward, progress never goes back, and rendering was seen mid-way
    assert [LIFECYCLE.index(s) for s in stages] == sorted(LIFECYCLE.index(s) for s in stages)
    assert progress == sorted(progress)
    assert any(stage == "rendering" and 0 < value < 1 for stage, value in seen)


def test_the_same_job_id_is_rendered_once_however_often_it_is_posted(live_worker, media_server):
    worker = live_worker()
    job = preview_job("idem-1", media_server.url("/media/green.mp4"), seconds=3)
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda _i: worker.client.post(job), range(6)))
    assert {reply.status_code for reply in replies} <= {200, 202}
    first = worker.client.wait("idem-1")
    again = worker.client.post({**job, "waitSec": 5})  # waitSec is not part of the job
    assert again.status_code == 200 and again.json()["status"] == "completed"
    assert again.json()["url"].split("?")[0] == first["url"].split("?")[0]
    assert first["attempts"] == 1
    metrics = worker.client.http.get("/metrics").text
    assert metric(metrics, "compositor_jobs_finished_total", '{code="",outcome="completed"}') == 1
    assert len(list(worker.services.storage.list())) == 2  # one video, one poster


def test_a_reused_job_id_with_another_body_is_409(live_worker, media_server):
    worker = live_worker(render_slots=0)  # nothing renders: the answer is about the body only
    assert worker.client.post(preview_job("reuse-1", media_server.url("/media/red.mp4"))).is_success
    reply = worker.client.post(preview_job("reuse-1", media_server.url("/media/blue.mp4")))
    assert reply.status_code == 409
    assert reply.json()["error"] == {
        "code": "idempotency_conflict",
        "message": "jobId reuse-1 was used for another job",
        "field": "jobId",
    }


def test_a_bad_job_is_400_naming_the_failing_field(live_worker, media_server):
    worker = live_worker(render_slots=0)
    red = media_server.url("/media/red.mp4")
    cases = [
        (preview_job("bad-1", red, seconds=500), "invalid_field", "output.durationSec"),
        ({**preview_job("bad-2", red), "colour": "red"}, "unknown_field", "colour"),
        ({k: v for k, v in preview_job("x", red).items() if k != "jobId"}, "missing_field",
         "jobId"),
        (preview_job("bad-4", "/etc/passwd"), "source_scheme_not_allowed", "clips[0].source"),
        (preview_job("bad-5", red, "file:///etc/passwd"), "source_scheme_not_allowed",
         "clips[1].source"),
        (preview_job("bad 6", red), "invalid_field", "jobId"),
        ({**preview_job("bad-7", red), "waitSec": 31}, "invalid_field", "waitSec"),
    ]  # fmt: skip
    for job, code, field in cases:
        reply = worker.client.post(job)
        assert reply.status_code == 400, (job, reply.text)
        error = reply.json()["error"]
        assert (error["code"], error["field"]) == (code, field), error
        assert reply.json()["_receipt"]["requestId"] == reply.headers["x-request-id"]
    not_json = worker.client.request("POST", "/compose", b"{not json")
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"
    assert worker.services.store.counts()["queued"] == 0  # none of them was kept


def test_a_body_over_the_limit_is_413(live_worker):
    worker = live_worker(render_slots=0, max_body_bytes=2048)
    reply = worker.client.request("POST", "/compose", b"{" + b" " * 4096 + b"}")
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "payload_too_large"


def test_a_full_queue_answers_429_with_retry_after(live_worker, media_server):
    worker = live_worker(render_slots=0, max_queued=2)
    red = media_server.url("/media/red.mp4")
    assert worker.client.post(preview_job("q-1", red)).status_code == 202
    assert worker.client.post(preview_job("q-2", red)).status_code == 202
    full = worker.client.post(preview_job("q-3", red))
    assert full.status_code == 429
    assert full.json()["error"]["code"] == "queue_full"
    assert int(full.headers["retry-after"]) >= 1
    # a job already accepted is still answered (idempotent), full queue or not
    assert worker.client.post(preview_job("q-1", red)).status_code == 202
    assert worker.client.status("q-3").status_code == 404


def test_a_source_that_fails_fails_the_job_with_its_code_and_field(live_worker, media_server):
    worker = live_worker()
    job = preview_job("missing-1", media_server.url("/media/red.mp4"),
                      media_server.url("/media/nothing-here.mp4"), waitSec=30)  # fmt: skip
    body = worker.client.post(job).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "source_not_found"
    assert body["error"]["field"] == "clips[1].source"
    assert "url" not in body


def test_an_unknown_job_is_404(live_worker):
    worker = live_worker(render_slots=0)
    reply = worker.client.status("never-posted")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"


def test_health_readiness_and_metrics_report_real_state(live_worker, media_server):
    worker = live_worker()
    http = worker.client.http
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"ffmpeg": "ok", "storage": "ok", "store": "ok", "queue": "ok"}
    body = worker.client.post(preview_job("m-1", media_server.url("/media/red.mp4"),
                                          seconds=2, waitSec=30)).json()  # fmt: skip
    assert body["status"] == "completed"
    text = http.get("/metrics").text
    assert metric(text, "compositor_jobs", '{state="completed"}') == 1
    assert metric(text, "compositor_jobs", '{state="queued"}') == 0
    assert metric(text, "compositor_queue_depth") == 0
    assert metric(text, "compositor_renders_in_flight") == 0
    assert metric(text, "compositor_render_seconds_count") == 1
    assert metric(text, "compositor_render_realtime_factor_count") == 1
    red_size = (media_server.root / "red.mp4").stat().st_size
    assert metric(text, "compositor_source_fetch_bytes_total") == red_size


def test_every_response_carries_a_request_id(live_worker):
    worker = live_worker(render_slots=0)
    mine = worker.client.http.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    unsafe = worker.client.http.get("/healthz", headers={"X-Request-Id": "a b<c>"})
    assert unsafe.headers["x-request-id"].startswith("req_")
    missing = worker.client.http.get("/no-such-route")
    assert missing.status_code == 404 and missing.headers["x-request-id"].startswith("req_")
    assert json.loads(missing.text)["error"]["code"] == "not_found"


def test_builtin_assets_and_narration_render_without_any_download(live_worker, media_server):
    worker = live_worker(fetch_allow_networks="")  # nothing may be fetched: all is builtin
    job = preview_job(
        "builtin-1",
        "builtin:bg-grid",
        seconds=4,
        waitSec=30,
        audio={"narration": {"script": "Welcome to the gym."}, "music": {"source": "builtin:calm"}},
        watermark={"image": "builtin:watermark"},
    )
    body = worker.client.post(job).json()
    assert body["status"] == "completed", body
    assert abs(body["durationSec"] - 4) <= 0.1
    text = worker.client.http.get("/metrics").text
    assert metric(text, "compositor_source_fetch_bytes_total") == 0
