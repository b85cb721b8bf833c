"""Retention: finished jobs are forgotten and their files removed after ``retention_sec``.

Routes already answer 404 for a job past its retention; the sweeper makes it so on disk and in
the store, and also prunes the source cache and working folders that crashed renders left.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from compositor.storage import Storage
from compositor.worker.cache import SourceCache
from compositor.worker.store import JobStore

log = logging.getLogger(__name__)

STALE_WORK_SEC = 24 * 3600  # longer than any render may run


class Sweeper:
    def __init__(
        self,
        *,
        store: JobStore,
        storage: Storage,
        cache: SourceCache,
        work_dir: Path,
        interval_sec: float,
        running_folders: Callable[[], set[str]] = set,
    ) -> None:
        self.store = store
        self.storage = storage
        self.cache = cache
        self.work_dir = work_dir
        self.interval_sec = interval_sec
        self.running_folders = running_folders
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval_sec):
            try:
                self.sweep_once()
            except Exception:  # a store or storage hiccup: try again next round
                log.warning("sweep failed", exc_info=True)

    def sweep_once(self, *, now: float | None = None) -> int:
        """Remove every job whose retention ended by ``now``; the number removed."""
        now = time.time() if now is None else now
        removed = 0
        while batch := self.store.expired(now):
            for record in batch:
                # files first: a record without files answers 404 anyway; files without a
                # record would never be removed
                self.storage.delete(record.video_key)
                self.storage.delete(record.poster_key)
                self.store.delete(record.job_id)
                removed += 1
        if removed:
            log.info("retention: removed %d jobs and their files", removed)
        self.cache.prune(now=now)
        self._prune_work(now)
        return removed

    def _prune_work(self, now: float) -> None:
        if not self.work_dir.is_dir():
            return
        running = self.running_folders()
        for folder in self.work_dir.iterdir():
            with contextlib.suppress(OSError):
                if folder.name not in running and now - folder.stat().st_mtime > STALE_WORK_SEC:
                    shutil.rmtree(folder, ignore_errors=True)
