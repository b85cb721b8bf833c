"""One job, start to end, the same in both queue backends: claim it, render it with the
engine, publish the files, record the outcome, hold the claim's lease meanwhile.

A claim is one render attempt (``owner``). Failures of the job itself (bad source, FFmpeg
error, duration off) end it as failed; failures of the machinery (storage or store down) give
it back to the queue for another attempt, up to a limit.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from compositor.errors import CompositorError, RenderCancelled
from compositor.job import parse_job_json
from compositor.render import render
from compositor.settings import Settings
from compositor.sources import SourceResolver
from compositor.storage import Storage
from compositor.worker.metrics import WorkerMetrics
from compositor.worker.records import JobRecord, Stage, stage_progress
from compositor.worker.store import Claim, JobStore

log = logging.getLogger(__name__)

PROGRESS_EVERY_SEC = 0.5  # store writes while rendering: often enough for a progress bar


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    DUPLICATE = "duplicate"  # already finished: a second delivery, nothing done
    BUSY = "busy"  # another attempt holds the job
    RELEASED = "released"  # given back to the queue (drain)
    LOST = "lost"  # the lease ran out and another attempt took over
    MISSING = "missing"


class Requeue(Exception):
    """Raised when a job must be tried again later (its claim is held elsewhere, or the
    machinery failed); queue backends retry it with backoff."""


@dataclass
class Attempt:
    owner: str
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)  # no more renewals
    lost: bool = False
    draining: bool = False


class JobExecutor:
    def __init__(
        self,
        *,
        store: JobStore,
        storage: Storage,
        resolver: SourceResolver,
        settings: Settings,
        metrics: WorkerMetrics,
        work_dir: Path,
        worker_id: str,
        lease_sec: float,
        retention_sec: int,
        max_attempts: int,
        on_finished: Callable[[JobRecord], None] = lambda _record: None,
    ) -> None:
        self.store = store
        self.storage = storage
        self.resolver = resolver
        self.settings = settings
        self.metrics = metrics
        self.work_dir = work_dir
        self.worker_id = worker_id
        self.lease_sec = lease_sec
        self.retention_sec = retention_sec
        self.max_attempts = max_attempts
        self.on_finished = on_finished
        self.attempts: dict[str, Attempt] = {}
        self.lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        with self.lock:
            return len(self.attempts)

    def running_folders(self) -> set[str]:
        """Names of the working folders of renders running now (the sweeper keeps them)."""
        with self.lock:
            return {owner.replace("/", "-") for owner in self.attempts}

    def cancel_all(self) -> None:
        """Stop every running render (drain past its grace); their jobs go back to the queue."""
        with self.lock:
            for attempt in self.attempts.values():
                attempt.draining = True
                attempt.cancel.set()

    def execute(self, job_id: str) -> Outcome:
        attempt = Attempt(owner=f"{self.worker_id}/{uuid.uuid4().hex[:12]}")
        claim = self.store.claim(job_id, attempt.owner, self.lease_sec)
        if claim is not Claim.CLAIMED:
            return {Claim.DONE: Outcome.DUPLICATE, Claim.BUSY: Outcome.BUSY}.get(
                claim, Outcome.MISSING
            )
        record = self.store.get(job_id)
        if record is None:
            return Outcome.MISSING
        if record.attempts > self.max_attempts:
            self._finish(record, attempt, error={
                "code": "render_abandoned", "field": None,
                "message": f"gave up after {record.attempts - 1} interrupted attempts",
            })  # fmt: skip
            return Outcome.FAILED
        with self.lock:
            self.attempts[attempt.owner] = attempt
        renewer = threading.Thread(target=self._renew, args=(job_id, attempt), daemon=True)
        renewer.start()
        self.metrics.in_flight.inc()
        try:
            return self._run(record, attempt)
        finally:
            attempt.finished.set()
            self.metrics.in_flight.dec()
            with self.lock:
                del self.attempts[attempt.owner]
            renewer.join(timeout=5)

    def _renew(self, job_id: str, attempt: Attempt) -> None:
        """Keep the claim while the attempt runs; stop the render if another attempt has it."""
        while not attempt.finished.wait(self.lease_sec / 3):
            try:
                renewed = self.store.renew(job_id, attempt.owner, self.lease_sec)
            except Exception:  # the store is unreachable for a moment: the lease may yet hold
                log.warning("%s: cannot renew lease", job_id, exc_info=True)
                continue
            if not renewed and not attempt.finished.is_set():
                log.warning("%s: lease lost to another attempt; stopping", job_id)
                attempt.lost = True
                attempt.cancel.set()
                return

    def _run(self, record: JobRecord, attempt: Attempt) -> Outcome:
        folder = self.work_dir / attempt.owner.replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            job = parse_job_json(record.body)
            result = render(
                job,
                folder / "render.mp4",
                poster_path=folder / "poster.jpg",
                resolver=self.resolver,
                settings=self.settings,
                on_stage=self._stage_writer(record.job_id, attempt),
                on_progress=self._progress_writer(record.job_id, attempt),
                cancel=attempt.cancel,
            )
            self.storage.put(record.video_key, result.path, "video/mp4")
            self.storage.put(record.poster_key, result.poster_path, "image/jpeg")
        except CompositorError as error:
            if isinstance(error, RenderCancelled) and attempt.lost:
                return Outcome.LOST
            if isinstance(error, RenderCancelled) and attempt.draining:
                self.store.release(record.job_id, attempt.owner)
                return Outcome.RELEASED
            self.metrics.finished.labels("failed", error.code).inc()
            return self._finish(record, attempt, error=error.to_dict())
        except Exception:
            log.exception("%s: attempt failed; back to the queue", record.job_id)
            self.store.release(record.job_id, attempt.owner)
            raise Requeue(record.job_id) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        summary = result.to_dict(url="", poster_url="")
        del summary["url"], summary["posterUrl"]
        summary["wallSec"] = round(time.monotonic() - started, 3)
        summary["worker"] = self.worker_id
        outcome = self._finish(record, attempt, result=summary)
        if outcome is Outcome.COMPLETED:
            self.metrics.finished.labels("completed", "").inc()
            self.metrics.render_seconds.observe(result.render_sec)
            self.metrics.realtime_factor.observe(result.realtime_factor)
        return outcome

    def _finish(
        self,
        record: JobRecord,
        attempt: Attempt,
        *,
        result: dict[str, object] | None = None,
        error: dict[str, object] | None = None,
    ) -> Outcome:
        attempt.finished.set()  # the claim ends here: a renewal after it would find no owner
        now = time.time()
        stage = Stage.FAILED if error is not None else Stage.COMPLETED
        if not self.store.finish(record.job_id, attempt.owner, stage, result=result, error=error,
                                 now=now, expires_at=now + self.retention_sec):  # fmt: skip
            log.warning("%s: finished after losing the lease; the other attempt records it",
                        record.job_id)  # fmt: skip
            return Outcome.LOST
        finished = self.store.get(record.job_id)
        if finished is not None:
            self.on_finished(finished)
        return Outcome.FAILED if error is not None else Outcome.COMPLETED

    def _stage_writer(self, job_id: str, attempt: Attempt) -> Callable[[str], None]:
        def write(name: str) -> None:
            stage = Stage(name)
            self.store.set_stage(job_id, attempt.owner, stage, stage_progress(stage))

        return write

    def _progress_writer(self, job_id: str, attempt: Attempt) -> Callable[[float], None]:
        last = [0.0]

        def write(fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_SEC:
                return
            last[0] = now
            progress = stage_progress(Stage.RENDERING, fraction)
            try:  # called from the thread that reads FFmpeg's progress pipe: it must not die
                self.store.set_stage(job_id, attempt.owner, Stage.RENDERING, progress)
            except Exception:
                log.warning("%s: cannot record progress", job_id, exc_info=True)

        return write
