"""Job records in one SQLite file under the data folder (one machine).

One connection behind a lock: the worker's writes are a few small rows per job, far below
what would need a pool, and WAL keeps readers from waiting on a writer. Records survive a
restart; ``interrupted`` hands back the jobs a dead process left running.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from compositor.worker.records import JobRecord, Stage
from compositor.worker.store import Claim

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    body TEXT NOT NULL,
    output_name TEXT NOT NULL UNIQUE,
    stage TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    lease_until REAL,
    finished_at REAL,
    expires_at REAL,
    result TEXT,
    error TEXT,
    callback_url TEXT,
    callback_state TEXT
);
CREATE INDEX IF NOT EXISTS jobs_stage ON jobs (stage, created_at);
CREATE INDEX IF NOT EXISTS jobs_expires ON jobs (expires_at);
"""
COLUMNS = (
    "job_id, fingerprint, body, output_name, stage, progress, created_at, updated_at, attempts, "
    "owner, finished_at, expires_at, result, error, callback_url, callback_state"
)
RUNNING = (Stage.FETCHING.value, Stage.RENDERING.value, Stage.VERIFYING.value)


def _record(row: tuple[Any, ...]) -> JobRecord:
    (job_id, fp, body, output_name, stage, progress, created, updated, attempts, owner,
     finished, expires, result, error, callback_url, callback_state) = row  # fmt: skip
    return JobRecord(
        job_id=job_id,
        fingerprint=fp,
        body=body,
        output_name=output_name,
        stage=Stage(stage),
        progress=progress,
        created_at=created,
        updated_at=updated,
        attempts=attempts,
        owner=owner,
        finished_at=finished,
        expires_at=expires,
        result=json.loads(result) if result else None,
        error=json.loads(error) if error else None,
        callback_url=callback_url,
        callback_state=callback_state,
    )


class SQLiteJobStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def _one(self, sql: str, *args: Any) -> JobRecord | None:
        with self.lock:
            row = self.db.execute(sql, args).fetchone()
        return _record(row) if row else None

    def _change(self, sql: str, *args: Any) -> bool:
        with self.lock:
            return self.db.execute(sql, args).rowcount > 0

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        with self.lock:
            cursor = self.db.execute(
                f"INSERT OR IGNORE INTO jobs ({COLUMNS}) VALUES ({', '.join('?' * 16)})",
                (record.job_id, record.fingerprint, record.body, record.output_name,
                 record.stage.value, record.progress, record.created_at, record.updated_at,
                 record.attempts, None, None, None, None, None, record.callback_url,
                 record.callback_state),
            )  # fmt: skip
            created = cursor.rowcount > 0
        if created:
            return record, True
        existing = self.get(record.job_id)
        assert existing is not None  # rows are only deleted by retention, long after creation
        return existing, False

    def get(self, job_id: str) -> JobRecord | None:
        return self._one(f"SELECT {COLUMNS} FROM jobs WHERE job_id = ?", job_id)

    def get_by_output(self, output_name: str) -> JobRecord | None:
        return self._one(f"SELECT {COLUMNS} FROM jobs WHERE output_name = ?", output_name)

    def claim(self, job_id: str, owner: str, lease_sec: float) -> Claim:
        now = time.time()
        with self.lock:
            row = self.db.execute(
                "SELECT stage, owner, lease_until FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            if row is None:
                return Claim.MISSING
            stage, current, lease_until = row
            if Stage(stage).terminal:
                return Claim.DONE
            if current and (lease_until or 0) > now:
                return Claim.BUSY
            self.db.execute(
                "UPDATE jobs SET stage = ?, progress = 0, owner = ?, lease_until = ?, "
                "attempts = attempts + 1, updated_at = ? WHERE job_id = ?",
                (Stage.FETCHING.value, owner, now + lease_sec, now, job_id),
            )
        return Claim.CLAIMED

    def renew(self, job_id: str, owner: str, lease_sec: float) -> bool:
        return self._change(
            "UPDATE jobs SET lease_until = ? WHERE job_id = ? AND owner = ?",
            time.time() + lease_sec, job_id, owner,
        )  # fmt: skip

    def set_stage(self, job_id: str, owner: str, stage: Stage, progress: float) -> bool:
        return self._change(
            "UPDATE jobs SET stage = ?, progress = ?, updated_at = ? "
            "WHERE job_id = ? AND owner = ?",
            stage.value, progress, time.time(), job_id, owner,
        )  # fmt: skip

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
        return self._change(
            "UPDATE jobs SET stage = ?, progress = ?, result = ?, error = ?, finished_at = ?, "
            "updated_at = ?, expires_at = ?, owner = NULL, lease_until = NULL "
            "WHERE job_id = ? AND owner = ?",
            stage.value, 1.0 if stage is Stage.COMPLETED else 0.0,
            json.dumps(result) if result is not None else None,
            json.dumps(error) if error is not None else None,
            now, now, expires_at, job_id, owner,
        )  # fmt: skip

    def release(self, job_id: str, owner: str) -> bool:
        return self._change(
            "UPDATE jobs SET stage = ?, progress = 0, owner = NULL, lease_until = NULL, "
            "updated_at = ? WHERE job_id = ? AND owner = ?",
            Stage.QUEUED.value, time.time(), job_id, owner,
        )  # fmt: skip

    def expired(self, now: float, limit: int = 100) -> list[JobRecord]:
        with self.lock:
            rows = self.db.execute(
                f"SELECT {COLUMNS} FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ? "
                "ORDER BY expires_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [_record(row) for row in rows]

    def delete(self, job_id: str) -> None:
        self._change("DELETE FROM jobs WHERE job_id = ?", job_id)

    def counts(self) -> dict[str, int]:
        with self.lock:
            rows = self.db.execute("SELECT stage, COUNT(*) FROM jobs GROUP BY stage").fetchall()
        return {stage.value: 0 for stage in Stage} | {stage: count for stage, count in rows}

    def set_callback_state(self, job_id: str, state: str) -> None:
        self._change("UPDATE jobs SET callback_state = ? WHERE job_id = ?", state, job_id)

    def check(self) -> None:
        with self.lock:
            self.db.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # One machine only: start-up recovery.

    def interrupted(self) -> list[str]:
        """Put jobs a previous process left running back in the queue; every queued job id,
        oldest first (they are all to be rendered)."""
        with self.lock:
            self.db.execute(
                f"UPDATE jobs SET stage = ?, progress = 0, owner = NULL, lease_until = NULL "
                f"WHERE stage IN ({', '.join('?' * len(RUNNING))})",
                (Stage.QUEUED.value, *RUNNING),
            )
            rows = self.db.execute(
                "SELECT job_id FROM jobs WHERE stage = ? ORDER BY created_at", (Stage.QUEUED.value,)
            ).fetchall()
        return [row[0] for row in rows]

    def pending_callbacks(self) -> list[str]:
        with self.lock:
            rows = self.db.execute(
                "SELECT job_id FROM jobs WHERE callback_state = 'pending' AND stage IN (?, ?)",
                (Stage.COMPLETED.value, Stage.FAILED.value),
            ).fetchall()
        return [row[0] for row in rows]
