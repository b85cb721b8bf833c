"""SIGTERM drains a one-machine worker (`compositor serve` as a process): new jobs get 503,
running renders finish within the grace period or go back to the queue, and job records
survive the restart."""

from __future__ import annotations

import httpx

from tests.worker.helpers import preview_job, wait_until


def long_job(media_server, job_id: str, seconds: int = 60) -> dict:
    return preview_job(job_id, media_server.url("/media/red_long.mp4"),
                       media_server.url("/media/blue_long.mp4"), seconds=seconds)  # fmt: skip


def rendering(worker, job_id: str) -> bool:
    status = worker.client.status(job_id).json()
    return status["stage"] == "rendering" and 0.05 < status["progress"] < 0.6


def test_sigterm_finishes_the_running_render_and_keeps_the_queued_job(
    worker_process, media_server, tmp_path
):
    env = {"COMPOSITOR_DATA_DIR": str(tmp_path / "data"), "COMPOSITOR_DRAIN_GRACE_SEC": "120"}
    worker = worker_process(env)
    assert worker.client.post(long_job(media_server, "running", 40)).status_code == 202
    assert worker.client.post(long_job(media_server, "waiting", 5)).status_code == 202
    wait_until(lambda: rendering(worker, "running"), timeout=60, every=0.05)

    worker.terminate()
    wait_until(lambda: httpx.get(f"{worker.base_url}/readyz").status_code == 503, timeout=10)
    refused = worker.client.post(long_job(media_server, "too-late", 5))
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "compositor_unavailable"
    assert worker.client.status("running").status_code == 200  # still answering while draining
    assert worker.process.wait(timeout=120) == 0
    assert "drained" in worker.log()

    restarted = worker_process(env)  # the same data folder
    running = restarted.client.status("running").json()
    assert running["status"] == "completed" and running["attempts"] == 1  # finished in the drain
    waiting = restarted.client.wait("waiting")
    assert waiting["status"] == "completed" and waiting["attempts"] == 1
    assert restarted.client.status("too-late").status_code == 404


def test_a_render_still_running_when_the_grace_ends_is_requeued_and_rendered_after_restart(
    worker_process, media_server, tmp_path
):
    env = {"COMPOSITOR_DATA_DIR": str(tmp_path / "data"), "COMPOSITOR_DRAIN_GRACE_SEC": "0.2"}
    worker = worker_process(env)
    assert worker.client.post(long_job(media_server, "cut-short")).status_code == 202
    wait_until(lambda: rendering(worker, "cut-short"), timeout=60, every=0.05)
    worker.terminate()
    assert worker.process.wait(timeout=60) == 0
    assert list((tmp_path / "data" / "composites").iterdir()) == []  # nothing half-published

    restarted = worker_process(env)
    body = restarted.client.wait("cut-short", timeout=120)
    assert body["status"] == "completed" and body["attempts"] == 2
    assert abs(body["durationSec"] - 60) <= 0.1
