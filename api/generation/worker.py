"""Runs generation jobs in the background: bounded threads, leases, deadlines, recovery.

The database is the queue. A job is a ``video_generations`` row in ``processing``; a worker
thread claims it with a conditional update that sets a lease (owner, until) and counts the
attempt, renews the lease while it runs, and finishes with another conditional update. So:

- several API processes (uvicorn workers, replicas) share the work without a broker;
- a job left by a dead process is claimed again once its lease expires (resumed), and failed
  with its credits released after ``max_attempts`` claims;
- every job has a ``deadline_at``; the maintenance loop fails rows past it (credits released)
  and cancels the render if it runs here, so nothing stays ``processing`` forever.

Renders run in plain threads (FFmpeg is a subprocess), never on the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from api.clock import Clock
from api.credits.ledger import Ledger
from api.db.engine import Database
from api.db.models import VideoGeneration
from api.generation import (
    GenerationFailed,
    GenerationJob,
    GenerationOutput,
    GenerationProvider,
    RunContext,
)
from api.idempotency import purge_expired

log = logging.getLogger(__name__)
PURGE_EVERY_SEC = 3600.0


@dataclass(frozen=True)
class Claimed:
    pk: int
    job: GenerationJob
    attempts: int
    deadline_at: datetime | None


@dataclass
class Running:
    cancel: threading.Event
    deadline_at: datetime | None


class GenerationWorker:
    def __init__(
        self,
        database: Database,
        ledger: Ledger,
        provider: GenerationProvider,
        storage: object,
        clock: Clock,
        *,
        workers: int = 1,
        lease_sec: int = 60,
        max_attempts: int = 3,
        poll_sec: float = 5.0,
        owner: str | None = None,
    ) -> None:
        self.db = database
        self.ledger = ledger
        self.provider = provider
        self.storage = storage
        self.clock = clock
        self.workers = workers
        self.lease = timedelta(seconds=lease_sec)
        self.max_attempts = max_attempts
        self.poll_sec = poll_sec
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake: queue.Queue[None] = queue.Queue()
        self._stop = threading.Event()
        self._running: dict[int, Running] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._last_purge = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Fail what is past its deadline, then start the threads (which resume the rest)."""
        self.maintain()
        maintenance = threading.Thread(target=self._maintenance_loop, name="gen-maint", daemon=True)
        self._threads = [maintenance]
        for index in range(self.workers):
            self._threads.append(
                threading.Thread(target=self._work_loop, name=f"gen-{index}", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel running renders and give their leases back: the next start resumes them."""
        self._stop.set()
        with self._lock:
            for running in self._running.values():
                running.cancel.set()
        for _ in self._threads:
            self._wake.put(None)
        for thread in self._threads:
            thread.join(timeout)
        with contextlib.suppress(Exception), self.db.session() as session:
            session.execute(
                update(VideoGeneration)
                .where(
                    VideoGeneration.lease_owner == self.owner,
                    VideoGeneration.status == "processing",
                )
                .values(lease_owner=None, lease_until=None)
            )

    def notify(self) -> None:
        """A job was created: wake a worker thread (others find it on their next poll)."""
        self._wake.put(None)

    @property
    def running_count(self) -> int:
        with self._lock:
            return len(self._running)

    # -- loops -----------------------------------------------------------------------------

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                did_work = self.run_next()
            except Exception:  # a database hiccup must not kill the thread
                log.exception("generation worker loop")
                did_work = False
            if not did_work:
                with contextlib.suppress(queue.Empty):
                    self._wake.get(timeout=self.poll_sec)

    def _maintenance_loop(self) -> None:
        interval = min(self.poll_sec, self.lease.total_seconds() / 3)
        while not self._stop.wait(interval):
            try:
                self.maintain()
            except Exception:
                log.exception("generation maintenance")

    # -- steps (also called directly by tests) -----------------------------------------------

    def maintain(self) -> None:
        """Renew our leases, cancel what lost its row, fail everything past its deadline."""
        now = self.clock.now()
        with self._lock:
            running = dict(self._running)
        for pk, job in running.items():
            with self.db.session() as session:
                renewed = session.execute(
                    update(VideoGeneration)
                    .where(
                        VideoGeneration.pk == pk,
                        VideoGeneration.lease_owner == self.owner,
                        VideoGeneration.status == "processing",
                    )
                    .values(lease_until=now + self.lease)
                ).rowcount  # type: ignore[attr-defined]
            if not renewed:
                job.cancel.set()
        with self.db.session() as session:
            overdue = session.scalars(
                select(VideoGeneration.pk).where(
                    VideoGeneration.status == "processing",
                    # composites have their own deadline, kept by the composite watcher
                    VideoGeneration.kind == "generation",
                    VideoGeneration.deadline_at.is_not(None),
                    VideoGeneration.deadline_at <= now,
                )
            ).all()
        for pk in overdue:
            if self.ledger.fail(
                pk, code="generation_timeout", message="the job ran past its deadline"
            ):
                log.warning("generation %s failed: past its deadline", pk)
            if pk in running:
                running[pk].cancel.set()
        if time.monotonic() - self._last_purge > PURGE_EVERY_SEC:
            self._last_purge = time.monotonic()
            with self.db.session() as session:
                purge_expired(session, now)

    def run_next(self) -> bool:
        """Claim one job and run it to the end; False when there was nothing to claim."""
        claimed = self.claim()
        if claimed is None:
            return False
        if claimed.attempts > self.max_attempts:
            self.ledger.fail(
                claimed.pk,
                code="generation_interrupted",
                message=f"the job was interrupted {claimed.attempts - 1} times",
            )
            return True
        self._run(claimed)
        return True

    def claim(self) -> Claimed | None:
        now = self.clock.now()
        with self.db.write() as session:
            query = (
                select(VideoGeneration)
                .where(
                    VideoGeneration.status == "processing",
                    VideoGeneration.kind == "generation",
                    or_(VideoGeneration.lease_until.is_(None), VideoGeneration.lease_until < now),
                )
                .order_by(VideoGeneration.pk)
                .limit(1)
            )
            if not self.db.is_sqlite:  # SQLite's BEGIN IMMEDIATE already excludes other claimers
                query = query.with_for_update(skip_locked=True)
            row = session.scalars(query).one_or_none()
            if row is None:
                return None
            row.lease_owner = self.owner
            row.lease_until = now + self.lease
            row.attempts += 1
            row.updated_at = now
            job = GenerationJob(
                generation_id=row.id,
                prompt=row.prompt,
                duration_sec=row.duration_sec,
                aspect_ratio=row.aspect_ratio,
                script=row.script or "",
                shots=list(row.shots or []),
                provider_job_id=row.provider_job_id,
            )
            return Claimed(row.pk, job, row.attempts, row.deadline_at)

    def _run(self, claimed: Claimed) -> None:
        cancel = threading.Event()
        with self._lock:
            self._running[claimed.pk] = Running(cancel, claimed.deadline_at)
        context = RunContext(
            storage=self.storage,
            cancel=cancel,
            remember_provider_job=lambda remote_id: self._remember(claimed.pk, remote_id),
        )
        try:
            output = self.provider.run(claimed.job, context)
        except Exception as error:
            if self._stop.is_set():
                log.info("generation %s interrupted by shutdown", claimed.job.generation_id)
                return
            if isinstance(error, GenerationFailed):
                code, message = error.code, error.message
            else:
                log.exception("generation %s crashed", claimed.job.generation_id)
                code, message = "internal_error", "video generation failed unexpectedly"
            self.ledger.fail(claimed.pk, code=code, message=message)
        else:
            self._complete(claimed.pk, output)
        finally:
            with self._lock:
                self._running.pop(claimed.pk, None)

    def _complete(self, pk: int, output: GenerationOutput) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            done = session.execute(
                update(VideoGeneration)
                .where(
                    VideoGeneration.pk == pk,
                    VideoGeneration.status == "processing",
                    VideoGeneration.lease_owner == self.owner,
                )
                .values(
                    status="completed",
                    video_key=output.video_key,
                    thumbnail_key=output.thumbnail_key,
                    shots=output.shots,
                    completed_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_until=None,
                )
            ).rowcount  # type: ignore[attr-defined]
        if not done:
            log.warning("generation %s finished after it was failed or taken over", pk)

    def _remember(self, pk: int, remote_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(VideoGeneration)
                .where(VideoGeneration.pk == pk)
                .values(provider_job_id=remote_id, updated_at=self.clock.now())
            )
