"""Completion callbacks: the job's status POSTed to its ``callbackUrl``, signed like requests
(CONTRACT §6), retried with exponential backoff so the API need not poll.

A callback may arrive more than once (a retry after a lost answer, a restart); receivers treat
it as "this job's status is now X", which is idempotent. Delivery state is kept on the job
record; a one-machine worker resends pending callbacks after a restart.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from compositor.errors import SourceUnavailable
from compositor.signing import sign_request
from compositor.worker.backoff import backoff_ms, jittered

log = logging.getLogger(__name__)


def is_retryable(status: int) -> bool:
    return status >= 500 or status in (408, 425, 429)


@dataclass(order=True)
class _Delivery:
    due: float
    job_id: str = field(compare=False)
    attempt: int = field(compare=False, default=1)


class CallbackSender:
    """One thread delivers every callback of this process, in due order."""

    def __init__(
        self,
        client: httpx.Client,
        secrets: Sequence[str],
        *,
        status_of: Callable[[str], tuple[str, dict[str, Any]] | None],
        on_result: Callable[[str, str], None],
        max_attempts: int,
        base_ms: int,
        max_ms: int,
    ) -> None:
        """``status_of(job_id)`` -> (callback URL, body) or None; ``on_result(job_id, state)``
        records delivered or failed."""
        self.client = client
        self.secret = secrets[0]
        self.status_of = status_of
        self.on_result = on_result
        self.max_attempts = max_attempts
        self.base_ms = base_ms
        self.max_ms = max_ms
        self.rng = random.Random()
        self.heap: list[_Delivery] = []
        self.wake = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="callbacks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def submit(self, job_id: str) -> None:
        with self.wake:
            heapq.heappush(self.heap, _Delivery(time.monotonic(), job_id))
            self.wake.notify()

    def stop(self) -> None:
        with self.wake:
            self.stopped = True
            self.wake.notify()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self.wake:
                while not self.stopped and (not self.heap or self.heap[0].due > time.monotonic()):
                    timeout = self.heap[0].due - time.monotonic() if self.heap else None
                    self.wake.wait(timeout)
                if self.stopped:
                    return
                delivery = heapq.heappop(self.heap)
            self._attempt(delivery)

    def _attempt(self, delivery: _Delivery) -> None:
        target = self.status_of(delivery.job_id)
        if target is None:
            return
        url, body = target
        outcome = self.send(url, body)
        if outcome == "delivered" or outcome == "refused":
            self.on_result(delivery.job_id, "delivered" if outcome == "delivered" else "failed")
            return
        if delivery.attempt >= self.max_attempts:
            log.warning("callback for %s failed %d times; giving up", delivery.job_id,
                        delivery.attempt)  # fmt: skip
            self.on_result(delivery.job_id, "failed")
            return
        delay = jittered(backoff_ms(delivery.attempt, base_ms=self.base_ms, max_ms=self.max_ms),
                         self.rng)  # fmt: skip
        with self.wake:
            heapq.heappush(
                self.heap,
                _Delivery(time.monotonic() + delay / 1000, delivery.job_id, delivery.attempt + 1),
            )

    def send(self, url: str, body: dict[str, Any]) -> str:
        """One signed POST: 'delivered', 'retry' or 'refused' (a 4xx that retrying won't fix)."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/json",
                   **sign_request(self.secret, int(time.time()), "POST", path, raw)}  # fmt: skip
        try:
            reply = self.client.post(url, content=raw, headers=headers)
        except (httpx.HTTPError, SourceUnavailable) as exc:
            log.info("callback to %s://%s%s failed: %s", parts.scheme, parts.netloc, parts.path,
                     exc)  # fmt: skip
            return "retry"
        if 200 <= reply.status_code < 300:
            return "delivered"
        return "retry" if is_retryable(reply.status_code) else "refused"
