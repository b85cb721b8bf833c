"""Fixtures of the worker's tests: real HTTP servers on loopback, real Redis, moto's S3."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis

from compositor.settings import Settings
from tests.conftest import Media
from tests.worker.helpers import (
    LiveWorker,
    MediaServer,
    WorkerProcess,
    start_live_worker,
    start_worker_process,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def media_server(media: Media) -> Iterator[MediaServer]:
    server = MediaServer(media.root)
    yield server
    server.close()


@pytest.fixture
def live_worker(tmp_path: Path, settings: Settings) -> Iterator[Callable[..., LiveWorker]]:
    """Start workers (uvicorn in a thread) with setting overrides; all stopped at the end."""
    started: list[LiveWorker] = []

    def start(**overrides: Any) -> LiveWorker:
        data_dir = overrides.pop("data_dir", tmp_path / f"worker{len(started)}")
        worker = start_live_worker(data_dir, settings, **overrides)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def worker_process(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `compositor serve` processes with environment overrides; all stopped at the end."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str]) -> WorkerProcess:
        process = start_worker_process(env, tmp_path / f"serve{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 as a real HTTP endpoint on loopback (boto3 talks to it like to MinIO)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    bucket_name = f"composites-{uuid.uuid4().hex[:10]}"
    s3 = boto3.resource(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    bucket = s3.create_bucket(Bucket=bucket_name)
    yield bucket
    bucket.objects.all().delete()
    bucket.delete()
