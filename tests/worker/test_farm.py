"""The farm: `compositor serve` processes sharing one Redis queue (Dramatiq) and S3 (moto's
server on loopback), as containers of the compose deployment do."""

from __future__ import annotations

import re
from pathlib import Path

import dramatiq
import httpx
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from compositor.worker.queues.redis import ACTOR_NAME, QUEUE_NAME
from tests.mediatools import stream_durations, video_info
from tests.worker.conftest import REDIS_URL
from tests.worker.helpers import WorkerProcess, preview_job, wait_until


@pytest.fixture
def farm(redis_prefix, worker_process, s3_endpoint, s3_bucket, tmp_path):
    """Start farm workers: same Redis prefix, same bucket, a data folder each. (The prefix
    comes first so that its keys are deleted after the workers stopped writing them.)"""

    def env(number: int) -> dict[str, str]:
        return {
            "COMPOSITOR_QUEUE": "redis",
            "COMPOSITOR_REDIS_URL": REDIS_URL,
            "COMPOSITOR_REDIS_PREFIX": redis_prefix,
            "COMPOSITOR_STORAGE": "s3",
            "COMPOSITOR_S3_BUCKET": s3_bucket.name,
            "COMPOSITOR_S3_ENDPOINT_URL": s3_endpoint,
            "COMPOSITOR_S3_REGION": "us-east-1",
            "COMPOSITOR_S3_ACCESS_KEY_ID": "testing",
            "COMPOSITOR_S3_SECRET_ACCESS_KEY": "testing",
            "COMPOSITOR_DATA_DIR": str(tmp_path / f"farm{number}"),
            # short enough that a dead worker's job moves on within seconds in a test
            "COMPOSITOR_LEASE_SEC": "4",
            "COMPOSITOR_HEARTBEAT_TIMEOUT_MS": "3000",
            "COMPOSITOR_MAINTENANCE_CHANCE": "1000000",
            "COMPOSITOR_MIN_BACKOFF_MS": "300",
            "COMPOSITOR_MAX_BACKOFF_MS": "2000",
        }

    def start(count: int = 2, **extra: str) -> list[WorkerProcess]:
        return [worker_process(env(number) | extra) for number in range(count)]

    return start


def objects(bucket) -> list[str]:
    return sorted(item.key for item in bucket.objects.all())


def finished_total(worker: WorkerProcess) -> float:
    text = worker.client.http.get("/metrics").text
    return sum(float(v) for v in re.findall(r'^compositor_jobs_finished_total\{.*\} (\S+)$', text,
                                             re.MULTILINE))  # fmt: skip


def test_two_workers_complete_eight_jobs_each_exactly_once(farm, media_server, s3_bucket,
                                                           redis_prefix):  # fmt: skip
    workers = farm(2)
    red, blue = media_server.url("/media/red.mp4"), media_server.url("/media/blue.mp4")
    ids = [f"farm-{number}" for number in range(8)]
    for number, job_id in enumerate(ids):
        reply = workers[number % 2].client.post(preview_job(job_id, red, blue, seconds=4))
        assert reply.status_code == 202, reply.text
    # any worker answers for any job
    bodies = {job_id: workers[(n + 1) % 2].client.wait(job_id) for n, job_id in enumerate(ids)}
    assert {body["status"] for body in bodies.values()} == {"completed"}
    assert {body["attempts"] for body in bodies.values()} == {1}
    assert len({body["worker"] for body in bodies.values()}) == 2  # both took part
    names = {body["url"].split("/composites/")[1].split("?")[0] for body in bodies.values()}
    assert objects(s3_bucket) == sorted(names | {n.replace(".mp4", ".jpg") for n in names})
    assert sum(finished_total(worker) for worker in workers) == 8

    # A second (and third) delivery of every message: each is a no-op.
    broker = RedisBroker(url=REDIS_URL, namespace=f"{redis_prefix}:dramatiq", middleware=[])
    actor = dramatiq.Actor(lambda job_id: None, broker=broker, actor_name=ACTOR_NAME,
                           queue_name=QUEUE_NAME, priority=0, options={})  # fmt: skip
    for job_id in ids * 2:
        actor.send(job_id)
    client = redis.Redis.from_url(REDIS_URL)

    def all_delivered() -> bool:
        queued = client.llen(f"{redis_prefix}:dramatiq:{QUEUE_NAME}")
        unacked = sum(client.scard(key) for key in
                      client.scan_iter(match=f"{redis_prefix}:dramatiq:__acks__.*"))  # fmt: skip
        return queued == 0 and unacked == 0

    wait_until(all_delivered, timeout=60)
    assert sum(finished_total(worker) for worker in workers) == 8
    assert {workers[0].client.status(job_id).json()["attempts"] for job_id in ids} == {1}
    assert len(objects(s3_bucket)) == 16
    client.close()


def test_a_job_whose_worker_is_killed_mid_render_completes_on_the_other_once(
    farm, media_server, s3_bucket, redis_prefix, tmp_path
):
    workers = farm(2)
    job = preview_job("farm-kill", media_server.url("/media/red_long.mp4"),
                      media_server.url("/media/blue_long.mp4"), seconds=60)  # fmt: skip
    assert workers[0].client.post(job).status_code == 202
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)

    def rendering_owner() -> str | None:
        status = workers[1].client.status("farm-kill").json()
        if status["stage"] == "rendering" and 0.05 < status["progress"] < 0.5:
            return client.hget(f"{redis_prefix}:job:farm-kill", "owner") or None
        return None

    owner = wait_until(rendering_owner, timeout=60, every=0.05)
    pid = int(owner.split("/")[0].rsplit("-", 2)[1])
    victim = next(worker for worker in workers if worker.pid == pid)
    survivor = next(worker for worker in workers if worker.pid != pid)
    victim.kill_hard()

    body = survivor.client.wait("farm-kill", timeout=180)
    assert body["status"] == "completed", body
    assert body["attempts"] == 2
    assert f"-{survivor.pid}-" in body["worker"]
    name = body["url"].split("/composites/")[1].split("?")[0]
    assert objects(s3_bucket) == sorted([name, name.replace(".mp4", ".jpg")])
    # the file behind the link is whole: the link redirects to S3, which serves it
    video = httpx.get(body["url"], follow_redirects=True, timeout=60)
    assert video.status_code == 200
    path = Path(tmp_path / "killed.mp4")
    path.write_bytes(video.content)
    assert video_info(path)["codec"] == "h264"
    assert all(abs(seconds - 60) <= 0.1 for seconds in stream_durations(path))
    client.close()


def test_s3_mode_serves_files_by_redirect_to_a_presigned_url(farm, media_server, s3_bucket):
    (worker,) = farm(1)
    job = preview_job("s3-1", media_server.url("/media/green.mp4"), seconds=2, waitSec=30)
    body = worker.client.post(job).json()
    assert body["status"] == "completed", body
    redirect = httpx.get(body["posterUrl"])
    assert redirect.status_code == 307
    assert redirect.headers["location"].startswith(s3_bucket.meta.client.meta.endpoint_url)
    assert "X-Amz-Signature" in redirect.headers["location"]
    poster = httpx.get(redirect.headers["location"])
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"
    assert httpx.get(body["url"].replace("sig=", "sig=0")).status_code == 403
    ready = worker.client.http.get("/readyz").json()
    assert ready["checks"] == {"ffmpeg": "ok", "storage": "ok", "store": "ok", "queue": "ok"}


def test_a_farm_worker_drained_past_its_grace_hands_its_render_to_the_other(
    farm, media_server, redis_prefix
):
    workers = farm(2, COMPOSITOR_DRAIN_GRACE_SEC="0")
    job = preview_job("farm-drain", media_server.url("/media/red_long.mp4"),
                      media_server.url("/media/blue_long.mp4"), seconds=60)  # fmt: skip
    assert workers[0].client.post(job).status_code == 202
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)

    def rendering_owner() -> str | None:
        status = workers[1].client.status("farm-drain").json()
        if status["stage"] == "rendering" and 0.05 < status["progress"] < 0.5:
            return client.hget(f"{redis_prefix}:job:farm-drain", "owner") or None
        return None

    pid = int(wait_until(rendering_owner, timeout=60, every=0.05).split("/")[0].rsplit("-", 2)[1])
    draining = next(worker for worker in workers if worker.pid == pid)
    other = next(worker for worker in workers if worker.pid != pid)
    # grace 0: the drain cancels the render at once and releases the job to the queue
    draining.terminate()
    assert draining.process.wait(timeout=60) == 0
    body = other.client.wait("farm-drain", timeout=180)
    assert body["status"] == "completed" and body["attempts"] == 2
    assert f"-{other.pid}-" in body["worker"]
    client.close()
