"""Job records, in SQLite (one machine, the default) or Redis (a farm).

Every change to a running job names its ``owner`` (one render attempt): a store applies it only
while that owner holds the job, so a worker that lost its claim (its lease ran out while it was
stalled, and another worker took the job over) can neither move the job nor complete it twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from compositor.worker.records import JobRecord, Stage


class Claim(StrEnum):
    CLAIMED = "claimed"  # the caller now owns the job and renders it
    DONE = "done"  # completed or failed already: a duplicate delivery, nothing to do
    BUSY = "busy"  # another owner holds an unexpired lease: try again later
    MISSING = "missing"  # no such job (removed by retention)


class JobStore(Protocol):
    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """Store ``record`` unless its job id exists: (the stored record, created)."""
        ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def get_by_output(self, output_name: str) -> JobRecord | None: ...

    def claim(self, job_id: str, owner: str, lease_sec: float) -> Claim: ...

    def renew(self, job_id: str, owner: str, lease_sec: float) -> bool: ...

    def set_stage(self, job_id: str, owner: str, stage: Stage, progress: float) -> bool: ...

    def finish(
        self,
        job_id: str,
        owner: str,
        stage: Stage,
        *,
        result: dict[str, Any] | None,
        error: dict[str, Any] | None,
        now: float,
        expires_at: float,
    ) -> bool:
        """Move an owned job to completed or failed; False if ``owner`` no longer holds it."""
        ...

    def release(self, job_id: str, owner: str) -> bool:
        """Give an owned job back to the queue (drain, infrastructure error)."""
        ...

    def expired(self, now: float, limit: int = 100) -> list[JobRecord]:
        """Finished jobs whose retention ended; each returned to one caller only."""
        ...

    def delete(self, job_id: str) -> None: ...

    def counts(self) -> dict[str, int]:
        """Jobs per stage (metrics)."""
        ...

    def set_callback_state(self, job_id: str, state: str) -> None: ...

    def check(self) -> None:
        """Raise unless the store answers (readiness)."""
        ...

    def close(self) -> None: ...
