"""The farm's queue: Dramatiq over Redis, shared by every worker container.

Dramatiq brings what a farm needs and we do not write: late acks (a message is acked after the
actor returns, so a render that dies with its container is not lost), re-delivery of a dead
worker's unacked messages (its heartbeat stops; another worker's broker maintenance moves them
back), retries with backoff and time limits. Messages carry only the job id; the job lives in
the Redis job store, whose atomic claim makes a second delivery of a job harmless.
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Retries, TimeLimit

from compositor.worker.execute import JobExecutor, Outcome, Requeue

log = logging.getLogger(__name__)

QUEUE_NAME = "renders"
ACTOR_NAME = "render_job"


class RedisQueue:
    def __init__(
        self,
        executor: JobExecutor,
        *,
        redis_url: str,
        namespace: str,
        slots: int,
        max_queued: int,
        time_limit_ms: int,
        heartbeat_timeout_ms: int = 60_000,
        maintenance_chance: int = 1000,
        max_retries: int = 20,
        min_backoff_ms: int = 5000,
        max_backoff_ms: int = 300_000,
    ) -> None:
        self.executor = executor
        self.slots = slots
        self.max_queued = max_queued
        self.namespace = namespace
        self.client = redis.Redis.from_url(redis_url)
        # Explicit middleware: no Dramatiq defaults we did not choose (AgeLimit, Callbacks,
        # Pipelines, ShutdownNotifications are unused here).
        self.broker = RedisBroker(
            client=self.client,
            namespace=namespace,
            heartbeat_timeout=heartbeat_timeout_ms,
            maintenance_chance=maintenance_chance,
            middleware=[TimeLimit(), Retries(max_retries=max_retries)],
        )
        self.actor: dramatiq.Actor[[str], None] = dramatiq.Actor(
            self._process,
            broker=self.broker,
            actor_name=ACTOR_NAME,
            queue_name=QUEUE_NAME,
            priority=0,
            options={
                "max_retries": max_retries,
                "min_backoff": min_backoff_ms,
                "max_backoff": max_backoff_ms,
                # A backstop only: the engine's own render timeout ends FFmpeg first.
                "time_limit": time_limit_ms,
            },
        )
        self.worker: dramatiq.Worker | None = None
        self.draining = threading.Event()

    def start(self) -> None:
        if self.slots < 1:  # an HTTP-only front: queues jobs, renders none
            return
        self.worker = dramatiq.Worker(self.broker, worker_threads=self.slots, worker_timeout=1000)
        # Fetch no more than we can render: a message held by a busy worker waits while
        # another worker may be idle (Dramatiq's default prefetches twice the threads).
        self.worker.queue_prefetch = self.slots
        self.worker.start()

    def _process(self, job_id: str) -> None:
        if self.draining.is_set():
            raise dramatiq.Retry("draining", delay=1000)
        try:
            outcome = self.executor.execute(job_id)
        except Requeue:
            raise dramatiq.Retry("machinery failure; retrying") from None
        if outcome is Outcome.BUSY:
            raise dramatiq.Retry("another attempt holds the job")
        if outcome is Outcome.RELEASED:
            raise dramatiq.Retry("released while draining", delay=1000)
        log.info("%s: %s", job_id, outcome.value)

    def full(self) -> bool:
        return self.depth() >= self.max_queued

    def submit(self, job_id: str) -> None:
        self.actor.send(job_id)

    def depth(self) -> int:
        # The broker keeps a queue as a Redis list of message ids under namespace:queue.
        return int(self.client.llen(f"{self.namespace}:{QUEUE_NAME}"))  # type: ignore[arg-type]

    def check(self) -> None:
        self.client.ping()

    def drain(self, grace_sec: float) -> None:
        self.draining.set()
        deadline = time.monotonic() + grace_sec
        while self.executor.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.executor.in_flight:
            log.warning("drain: grace over; cancelling %d renders (retried elsewhere)",
                        self.executor.in_flight)  # fmt: skip
            self.executor.cancel_all()
            while self.executor.in_flight:
                time.sleep(0.05)
        self.close()

    def close(self) -> None:
        if self.worker is not None:
            # Workers are idle now; stop() re-queues messages fetched but not started.
            self.worker.stop(timeout=10_000)
            self.worker = None
        self.broker.close()
