"""A bounded queue in this process and a pool of render threads (one machine).

Jobs wait in a deque; the SQLite store is the durable copy: at start every job a previous
process left queued or running is queued again, oldest first. Render threads only wait on
FFmpeg (a niced child process) and on small store writes, so they leave the event loop free.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable

from compositor.worker.backoff import backoff_ms, jittered
from compositor.worker.execute import JobExecutor, Outcome, Requeue
from compositor.worker.queues import QueueFull

log = logging.getLogger(__name__)


class InProcessQueue:
    def __init__(
        self,
        executor: JobExecutor,
        *,
        slots: int,
        max_queued: int,
        recover: Callable[[], list[str]] = list,
        retry_base_ms: int = 1000,
        retry_max_ms: int = 60_000,
    ) -> None:
        self.executor = executor
        self.slots = slots
        self.max_queued = max_queued
        self.recover = recover
        self.retry_base_ms = retry_base_ms
        self.retry_max_ms = retry_max_ms
        self.waiting: collections.deque[str] = collections.deque()
        self.retries: dict[str, int] = {}
        self.cond = threading.Condition()
        self.taking = True
        self.threads: list[threading.Thread] = []
        self.rng = random.Random()

    def start(self) -> None:
        recovered = self.recover()
        if recovered:
            log.info("re-queued %d jobs left by the previous process", len(recovered))
        with self.cond:
            self.waiting.extend(recovered)
        for index in range(self.slots):
            thread = threading.Thread(target=self._slot, name=f"render-{index}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def full(self) -> bool:
        with self.cond:
            return len(self.waiting) >= self.max_queued

    def submit(self, job_id: str) -> None:
        with self.cond:
            if not self.taking:
                raise QueueFull("draining")
            self.waiting.append(job_id)
            self.cond.notify()

    def depth(self) -> int:
        with self.cond:
            return len(self.waiting)

    def check(self) -> None:
        if self.slots and not any(thread.is_alive() for thread in self.threads):
            raise RuntimeError("no render thread is running")

    def _slot(self) -> None:
        while True:
            with self.cond:
                while self.taking and not self.waiting:
                    self.cond.wait()
                if not self.taking:
                    return
                job_id = self.waiting.popleft()
            self._execute(job_id)

    def _execute(self, job_id: str) -> None:
        try:
            outcome = self.executor.execute(job_id)
        except Requeue:
            attempt = self.retries.get(job_id, 0) + 1
            self.retries[job_id] = attempt
            delay = jittered(backoff_ms(attempt, base_ms=self.retry_base_ms,
                                        max_ms=self.retry_max_ms), self.rng) / 1000  # fmt: skip
            timer = threading.Timer(delay, self._requeue, args=(job_id,))
            timer.daemon = True
            timer.start()
            return
        except Exception:
            log.exception("%s: unexpected error in a render slot", job_id)
            return
        self.retries.pop(job_id, None)
        log.info("%s: %s", job_id, outcome.value)
        if outcome is Outcome.BUSY:  # cannot happen with one process; be safe all the same
            self._requeue(job_id)

    def _requeue(self, job_id: str) -> None:
        with self.cond:
            if self.taking:
                self.waiting.append(job_id)
                self.cond.notify()

    def drain(self, grace_sec: float) -> None:
        with self.cond:
            self.taking = False
            self.cond.notify_all()
        deadline = time.monotonic() + grace_sec
        while self.executor.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.executor.in_flight:
            log.warning("drain: grace over; cancelling %d renders (re-queued on next start)",
                        self.executor.in_flight)  # fmt: skip
            self.executor.cancel_all()
        for thread in self.threads:
            thread.join(timeout=30)
        # Jobs still waiting stay queued in the store: the next start picks them up.

    def close(self) -> None:
        with self.cond:
            self.taking = False
            self.cond.notify_all()
