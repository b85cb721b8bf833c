"""Job records: what the worker remembers about a job, and the lifecycle it moves through.

``queued → fetching → rendering → verifying → completed | failed``. On the wire ``status`` is
``processing`` until the job ends (the API's vocabulary: processing, completed, failed) and
``stage`` names the step. Records are frozen; stores return new ones.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from compositor.job import Job


class Stage(StrEnum):
    QUEUED = "queued"
    FETCHING = "fetching"
    RENDERING = "rendering"
    VERIFYING = "verifying"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (Stage.COMPLETED, Stage.FAILED)

    @property
    def running(self) -> bool:
        return self in (Stage.FETCHING, Stage.RENDERING, Stage.VERIFYING)


def stage_progress(stage: Stage, render_fraction: float = 0.0) -> float:
    """Overall progress 0-1: fetching and probing is the first 5 %, encoding the next 90 %,
    verifying and publishing the last 5 %."""
    if stage is Stage.RENDERING:
        return round(0.05 + 0.9 * min(max(render_fraction, 0.0), 1.0), 4)
    return {Stage.QUEUED: 0.0, Stage.FETCHING: 0.0, Stage.VERIFYING: 0.95}.get(stage, 1.0)


def iso_time(unix: float | None) -> str | None:
    if unix is None:
        return None
    stamp = datetime.fromtimestamp(unix, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def canonical_body(job: Job) -> str:
    """The job as stored: every default spelled out, ``waitSec`` left out (how long a client
    waits for the answer is not part of what it asks for)."""
    data = job.model_dump(mode="json", by_alias=True, exclude={"wait_sec"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def new_output_name() -> str:
    """Files are named by the worker, never by clients: 128 random bits, hex."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    fingerprint: str
    body: str
    output_name: str
    stage: Stage
    progress: float
    created_at: float
    updated_at: float
    attempts: int = 0
    owner: str | None = None
    finished_at: float | None = None
    expires_at: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    callback_url: str | None = None
    callback_state: str | None = None  # pending | delivered | failed

    @property
    def video_key(self) -> str:
        return f"{self.output_name}.mp4"

    @property
    def poster_key(self) -> str:
        return f"{self.output_name}.jpg"

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def new_record(job: Job, job_id: str, *, now: float) -> JobRecord:
    body = canonical_body(job)
    return JobRecord(
        job_id=job_id,
        fingerprint=fingerprint(body),
        body=body,
        output_name=new_output_name(),
        stage=Stage.QUEUED,
        progress=0.0,
        created_at=now,
        updated_at=now,
        callback_url=job.callback_url,
        callback_state="pending" if job.callback_url else None,
    )
