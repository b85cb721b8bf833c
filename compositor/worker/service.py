"""Wiring: settings in, the worker's parts out (store, queue, storage, fetcher, executor,
sweeper, callbacks, metrics), started and stopped together. Nothing here reads the
environment: ``compositor serve`` passes the settings it read once."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from compositor.errors import CompositorError
from compositor.settings import Settings
from compositor.storage import Storage
from compositor.storage.local import LocalStorage
from compositor.storage.s3 import S3Storage
from compositor.worker.addresses import guarded_client
from compositor.worker.cache import SourceCache
from compositor.worker.callbacks import CallbackSender
from compositor.worker.execute import JobExecutor
from compositor.worker.fetch import Fetcher, FetchLimits
from compositor.worker.links import Links
from compositor.worker.metrics import WorkerMetrics
from compositor.worker.queues import JobQueue
from compositor.worker.queues.inprocess import InProcessQueue
from compositor.worker.queues.redis import RedisQueue
from compositor.worker.records import JobRecord, Stage, iso_time
from compositor.worker.resolver import WorkerResolver
from compositor.worker.settings import WorkerSettings
from compositor.worker.store import JobStore
from compositor.worker.store.redis import RedisJobStore
from compositor.worker.store.sqlite import SQLiteJobStore
from compositor.worker.sweeper import Sweeper

log = logging.getLogger(__name__)

MEAN_RENDER_SEC_DEFAULT = 30.0


class WorkerConfigError(CompositorError):
    """Raised at start-up when the worker's settings cannot work (no secret, no bucket...)."""

    code = "invalid_config"


@dataclass
class Services:
    ws: WorkerSettings
    settings: Settings
    store: JobStore
    storage: Storage
    queue: JobQueue
    executor: JobExecutor
    fetcher: Fetcher
    links: Links
    metrics: WorkerMetrics
    sweeper: Sweeper
    callbacks: CallbackSender | None
    worker_id: str
    draining: threading.Event = field(default_factory=threading.Event)
    lock_file: IO[str] | None = None
    started: bool = False

    # --- lifecycle

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.queue.start()
        self.sweeper.start()
        if self.callbacks is not None:
            self.callbacks.start()
            if isinstance(self.store, SQLiteJobStore):
                for job_id in self.store.pending_callbacks():
                    self.callbacks.submit(job_id)

    def drain(self, grace_sec: float | None = None) -> None:
        """SIGTERM: refuse new jobs (503), finish or re-queue running ones, stop."""
        self.draining.set()
        grace = self.ws.drain_grace_sec if grace_sec is None else grace_sec
        log.info("draining: %d renders running, grace %.0fs", self.executor.in_flight, grace)
        self.queue.drain(grace)
        log.info("drained")

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        self.draining.set()
        self.queue.close()
        # Stopped without a drain (a second signal, tests): renders still running are
        # cancelled and their jobs given back before the store closes under them.
        self.executor.cancel_all()
        deadline = time.monotonic() + 30
        while self.executor.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self.sweeper.stop()
        if self.callbacks is not None:
            self.callbacks.stop()
        self.fetcher.close()
        self.store.close()
        if self.lock_file is not None:
            self.lock_file.close()

    # --- answers

    def base_url(self, request_base: str | None = None) -> str:
        if self.ws.public_url:
            return self.ws.public_url.rstrip("/")
        if request_base:
            return request_base.rstrip("/")
        host = self.ws.host if self.ws.host not in ("0.0.0.0", "::") else socket.gethostname()
        return f"http://{host}:{self.ws.port}"

    def status_body(self, record: JobRecord, base_url: str, *, now: float) -> dict[str, Any]:
        """GET /compose/{id}, the POST answers and callbacks: one shape."""
        body: dict[str, Any] = {
            "jobId": record.job_id,
            "status": record.stage.value if record.stage.terminal else "processing",
            "stage": record.stage.value,
            "progress": round(record.progress, 4),
            "attempts": record.attempts,
            "createdAt": iso_time(record.created_at),
            "updatedAt": iso_time(record.updated_at),
        }
        if record.stage is Stage.COMPLETED and record.result is not None:
            body.update(
                url=self.links.url(base_url, record.video_key, now=now),
                posterUrl=self.links.url(base_url, record.poster_key, now=now),
                **record.result,
            )
        if record.stage is Stage.FAILED and record.error is not None:
            body["error"] = record.error
        if record.stage.terminal:
            body["finishedAt"] = iso_time(record.finished_at)
            body["expiresAt"] = iso_time(record.expires_at)
        else:
            body["statusUrl"] = f"{base_url}/compose/{record.job_id}"
        return body

    def mean_render_sec(self) -> float:
        histogram = self.metrics.render_seconds
        samples = next(iter(histogram.collect())).samples
        count = sum(s.value for s in samples if s.name.endswith("_count"))
        total = sum(s.value for s in samples if s.name.endswith("_sum"))
        return total / count if count else MEAN_RENDER_SEC_DEFAULT

    def _callback_target(self, job_id: str) -> tuple[str, dict[str, Any]] | None:
        record = self.store.get(job_id)
        if record is None or record.callback_url is None or not record.stage.terminal:
            return None
        return record.callback_url, self.status_body(record, self.base_url(), now=time.time())

    def record_callback(self, job_id: str, state: str) -> None:
        self.metrics.callbacks.labels(state).inc()
        self.store.set_callback_state(job_id, state)

    def on_finished(self, record: JobRecord) -> None:
        if self.callbacks is not None and record.callback_url:
            self.callbacks.submit(record.job_id)


def build_storage(ws: WorkerSettings) -> Storage:
    if ws.storage == "s3":
        if not ws.s3_bucket:
            raise WorkerConfigError("COMPOSITOR_S3_BUCKET is required with COMPOSITOR_STORAGE=s3")
        return S3Storage.from_settings(ws.s3_bucket, ws)
    return LocalStorage(ws.composites_dir, base_url="/composites", secrets=ws.link_secret_list)


def _lock_data_dir(ws: WorkerSettings) -> IO[str]:
    """One process per data folder on one machine: two would share SQLite and work folders."""
    ws.data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(ws.data_dir / ".lock", "w")  # noqa: SIM115 (held open for the process's life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise WorkerConfigError(
            f"{ws.data_dir} is in use by another worker process (one per data folder)"
        ) from None
    return handle


def build_services(ws: WorkerSettings, settings: Settings) -> Services:
    if not ws.secret_list:
        raise WorkerConfigError("COMPOSITOR_SECRETS (or COMPOSITOR_SECRETS_FILE) is required")
    settings = settings.model_copy(update={"nice": ws.render_nice})
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    metrics = WorkerMetrics()
    lock_file: IO[str] | None = None
    store: JobStore
    if ws.queue == "inprocess":
        lock_file = _lock_data_dir(ws)
        store = SQLiteJobStore(ws.data_dir / "jobs.sqlite3")
        # nothing runs yet: whatever a previous process left in the work folder is debris
        shutil.rmtree(ws.work_dir, ignore_errors=True)
    else:
        store = RedisJobStore.from_url(ws.redis_url, ws.redis_prefix)
    ws.work_dir.mkdir(parents=True, exist_ok=True)
    storage = build_storage(ws)
    cache = SourceCache(ws.cache_dir, ttl_sec=ws.fetch_cache_ttl_sec)
    limits = FetchLimits(
        connect_timeout_sec=ws.fetch_connect_timeout_sec,
        read_timeout_sec=ws.fetch_read_timeout_sec,
        total_timeout_sec=ws.fetch_total_timeout_sec,
        max_bytes=ws.fetch_max_bytes,
        max_redirects=ws.fetch_max_redirects,
    )
    fetcher = Fetcher(cache, allow=ws.allow_networks, limits=limits,
                      on_bytes=metrics.fetch_bytes.inc)  # fmt: skip
    holder: list[Services] = []
    executor = JobExecutor(
        store=store,
        storage=storage,
        resolver=WorkerResolver(fetcher, settings.assets_dir),
        settings=settings,
        metrics=metrics,
        work_dir=ws.work_dir,
        worker_id=worker_id,
        lease_sec=ws.lease_sec,
        retention_sec=ws.retention_sec,
        max_attempts=ws.max_retries + 1,
        on_finished=lambda record: holder[0].on_finished(record),
    )
    queue: JobQueue
    if ws.queue == "inprocess":
        assert isinstance(store, SQLiteJobStore)
        queue = InProcessQueue(executor, slots=ws.render_slots, max_queued=ws.max_queued,
                               recover=store.interrupted)  # fmt: skip
    else:
        time_limit_sec = settings.render_timeout_sec + ws.fetch_total_timeout_sec + 600
        queue = RedisQueue(
            executor,
            redis_url=ws.redis_url,
            namespace=f"{ws.redis_prefix}:dramatiq",
            slots=ws.render_slots,
            max_queued=ws.max_queued,
            time_limit_ms=int(time_limit_sec * 1000),
            heartbeat_timeout_ms=ws.heartbeat_timeout_ms,
            maintenance_chance=ws.maintenance_chance,
            max_retries=ws.max_retries,
            min_backoff_ms=ws.min_backoff_ms,
            max_backoff_ms=ws.max_backoff_ms,
        )
    sweeper = Sweeper(
        store=store,
        storage=storage,
        cache=cache,
        work_dir=ws.work_dir,
        interval_sec=ws.sweep_interval_sec,
        running_folders=executor.running_folders,
    )
    services = Services(
        ws=ws,
        settings=settings,
        store=store,
        storage=storage,
        queue=queue,
        executor=executor,
        fetcher=fetcher,
        links=Links(ws.link_secret_list, ttl_sec=ws.link_ttl_sec, public=ws.public_composites),
        metrics=metrics,
        sweeper=sweeper,
        callbacks=None,
        worker_id=worker_id,
        lock_file=lock_file,
    )
    services.callbacks = CallbackSender(
        guarded_client(ws.allow_networks, httpx.Timeout(ws.callback_timeout_sec)),
        ws.secret_list,
        status_of=services._callback_target,
        on_result=services.record_callback,
        max_attempts=ws.callback_max_attempts,
        base_ms=ws.callback_base_ms,
        max_ms=ws.callback_max_ms,
    )
    metrics.watch(store.counts, queue.depth)
    holder.append(services)
    return services
