"""Reconciles processing composites in the background, so every hold ends even when no client
polls and no callback arrives: each tick refreshes them from the worker (which settles the
finished ones) and fails those past their deadline (releasing the hold).

One thread per API process; processes may overlap, which is safe because every outcome is a
conditional update. Started and stopped with the app, like the generation worker.
"""

from __future__ import annotations

import logging
import threading

from api.compositing.service import CompositeService

log = logging.getLogger(__name__)


class CompositeWatcher:
    def __init__(self, service: CompositeService, *, interval_sec: float) -> None:
        self.service = service
        self.interval_sec = interval_sec
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="composite-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_sec):
            try:
                self.tick()
            except Exception:  # a database hiccup must not end the loop
                log.exception("composite watcher")

    def tick(self) -> int:
        """Refresh every processing composite once; returns how many were looked at."""
        pks = self.service.processing_pks()
        for pk in pks:
            if self._stop.is_set():
                break
            try:
                self.service.refresh(pk)
            except Exception:
                log.exception("composite %s: refresh failed", pk)
        return len(pks)
