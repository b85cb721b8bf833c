"""Composites, start to end: dispatch to the worker with a hold, follow the job, and charge
only a verified output (``charge_only_on_composite_output``, CONTRACT §4).

A composite is a ``video_generations`` row of kind ``composite`` with one ``held`` credit.
It ends one of three ways, each a conditional update on ``status = 'processing'`` in the
ledger, so whoever gets there first (a client's poll, the worker's callback, the watcher)
moves the credit and everyone after finds the row settled:

- completed: the worker reports a completed job whose verification keeps the duration within
  the job's tolerance; the file is copied into our storage and probed again; then the row is
  completed and its hold charged, in one transaction (``Ledger.complete_held``);
- failed: the job failed, its output missed the tolerance, the worker lost it, the worker
  stayed unreachable past the grace, or the deadline passed; the hold is released
  (``Ledger.fail``);
- never charged twice: polls of one process for one composite also queue on a lock, so ten
  concurrent polls make one worker request and one download, not ten.

Everything here blocks (database, HTTP, files): routes call it from worker threads.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from api.audio_config import effective_audio
from api.clock import Clock, iso_millis
from api.compositing.client import CompositorClient, OutputTooLarge, WorkerAnswer, WorkerUnreachable
from api.compositing.jobs import Source
from api.compositing.tokens import composite_id_of, job_id_of
from api.credits.ledger import Ledger
from api.credits.rules import COMPOSITE_CREDITS
from api.db.engine import Database
from api.db.models import CreditEntry, VideoGeneration
from api.errors import CompositorUnavailable, InvalidRequest, NotFound
from api.settings import ApiSettings
from compositor.probe import probe
from compositor.verify import stream_seconds

log = logging.getLogger(__name__)

LOCK_STRIPES = 64
MAX_DISPATCHES = 3  # a job the worker says it never heard of is sent again, this many times in all


@dataclass(frozen=True)
class CompositeState:
    """A composite as the poll route answers it."""

    id: str
    business_id: str
    status: str
    credits_used: int
    video_key: str | None = None
    thumbnail_key: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    stage: str | None = None
    progress: float | None = None


def source_of(row: VideoGeneration) -> Source:
    """A source bundle as the job builders need it."""
    meta = row.caption_meta or {}
    return Source(
        id=row.id,
        duration_sec=row.duration_sec,
        aspect=row.aspect_ratio,
        script=row.script,
        audio=effective_audio(row.audio_config),
        cues=tuple(row.captions or ()),
        words=tuple(meta["words"]) if isinstance(meta.get("words"), list) else None,
        caption_style=str(meta.get("captionStyle", "clean")),
        burn_in=bool(meta.get("burnIn", True)),
        video_key=row.video_key,
        shots=tuple(row.shots or ()),
    )


def object_field(body: dict[str, Any], name: str) -> dict[str, Any]:
    """``body[name]`` when it is an object, else an empty one (worker answers are data)."""
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def composite_keys(composite_id: str) -> tuple[str, str]:
    return f"composites/{composite_id}/composite.mp4", f"composites/{composite_id}/poster.jpg"


class CompositeService:
    def __init__(
        self,
        settings: ApiSettings,
        database: Database,
        ledger: Ledger,
        storage: Any,
        media_signer: Any,
        client: CompositorClient | None,
        clock: Clock,
        *,
        temp_root: Path | None = None,
    ) -> None:
        self.settings = settings
        self.db = database
        self.ledger = ledger
        self.storage = storage
        self.media_signer = media_signer  # signs source links the worker can reach
        self.client = client
        self.clock = clock
        self.temp_root = temp_root
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    # -- before anything is held ------------------------------------------------------------

    def require_ready(self) -> CompositorClient:
        """503 ``compositor_unavailable`` unless a worker is configured and takes jobs now."""
        if self.client is None:
            raise CompositorUnavailable("no compositor is configured for this environment")
        if not self.client.ready():
            raise CompositorUnavailable("the compositor is not available; try again shortly")
        return self.client

    def source_url(self, key: str) -> str:
        """A short-lived signed link to one of our files, for the worker to fetch."""
        return str(self.media_signer.url(key, expires_in=self.settings.compositor_source_ttl_sec))

    # -- dispatch ---------------------------------------------------------------------------

    def dispatch(self, row: VideoGeneration, *, credit_limit: int) -> CompositeState:
        """Insert the composite row (its job in ``details``) with a hold of 1 credit (429 when
        it does not fit), then send the job. A worker that refuses or cannot be reached fails
        the row, which releases the hold, and the caller gets the error."""
        created = self.ledger.create_row(
            row,
            limit=credit_limit,
            credits=COMPOSITE_CREDITS,
            state="held",
            reason="composite",
            build_response=lambda _row, _usage: {},
        )
        assert created.generation_id == row.id
        job = dict((row.details or {})["job"])
        try:
            return self._send(row.pk, job, dispatching=True)
        except Exception:
            # whatever went wrong, the client hears an error: no hold may stay behind
            self._fail(row.pk, "compositor_unavailable", "the job could not be dispatched")
            raise

    def _send(self, pk: int, job: dict[str, Any], *, dispatching: bool) -> CompositeState:
        assert self.client is not None
        try:
            answer = self.client.submit(job)
        except WorkerUnreachable as error:
            if not error.maybe_delivered:
                if dispatching:
                    raise CompositorUnavailable("the compositor cannot be reached") from None
                return self._unreachable(pk, str(error))
            # It may have the job: the poll finds out (the job id is derived from the row, so
            # sending it again never renders twice).
            log.warning("composite %s: dispatch unanswered: %s", pk, error)
            return self._unreachable(pk, str(error))
        self._count_dispatch(pk)
        return self._apply_answer(pk, answer, dispatching=dispatching)

    def _apply_answer(self, pk: int, answer: WorkerAnswer, *, dispatching: bool) -> CompositeState:
        status = answer.status_code
        if status in (200, 202):
            return self._apply_status(pk, answer.body)
        if status == 400:
            error = answer.body.get("error") or {}
            message = f"the compositor refused the job: {error.get('message', 'invalid')}"
            self._fail(pk, str(error.get("code") or "invalid_job"), message)
            if dispatching:
                raise InvalidRequest(message, field=error.get("field"))
            return self.state(pk)
        reason = f"the compositor answered HTTP {status} ({answer.error_code})"
        if status == 401:
            log.error(
                "composite %s: %s: NEARIQ_COMPOSITOR_SECRETS do not match the worker's", pk, reason
            )
        if dispatching:
            unavailable = CompositorUnavailable(f"{reason}; try again shortly")
            if "retry-after" in answer.headers:
                unavailable.headers["Retry-After"] = answer.headers["retry-after"]
            raise unavailable
        return self._unreachable(pk, reason)

    # -- following a job ----------------------------------------------------------------------

    def refresh(self, pk: int) -> CompositeState:
        """Ask the worker how the job is doing and settle the row if it ended (polls, watcher)."""
        with self._locks[pk % LOCK_STRIPES]:
            row = self._row(pk)
            if row.status != "processing":
                return self.state(pk)
            if row.deadline_at is not None and row.deadline_at <= self.clock.now():
                self._fail(pk, "composite_timeout", "the composite ran past its deadline")
                return self.state(pk)
            if self.client is None:
                return self._unreachable(pk, "no compositor is configured")
            job_id = job_id_of(row.id)
            try:
                answer = self.client.status(job_id)
            except WorkerUnreachable as error:
                return self._unreachable(pk, str(error))
            if answer.status_code == 404:
                return self._lost(row)
            return self._apply_answer(pk, answer, dispatching=False)

    def on_callback(self, body: dict[str, Any]) -> CompositeState:
        """A signed callback from the worker: the job's status body, as a poll would get it."""
        job_id = body.get("jobId")
        composite_id = composite_id_of(job_id) if isinstance(job_id, str) else None
        if composite_id is None:
            raise NotFound("no such composite job", field="jobId")
        with self.db.session() as session:
            pk = session.scalar(
                select(VideoGeneration.pk).where(
                    VideoGeneration.id == composite_id, VideoGeneration.kind == "composite"
                )
            )
        if pk is None:
            raise NotFound("no such composite job", field="jobId")
        with self._locks[pk % LOCK_STRIPES]:
            if self._row(pk).status != "processing":
                return self.state(pk)
            return self._apply_status(pk, body)

    def processing_pks(self, limit: int = 200) -> list[int]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(VideoGeneration.pk)
                    .where(
                        VideoGeneration.status == "processing",
                        VideoGeneration.kind == "composite",
                    )
                    .order_by(VideoGeneration.pk)
                    .limit(limit)
                ).all()
            )

    # -- outcomes -----------------------------------------------------------------------------

    def _apply_status(self, pk: int, body: dict[str, Any]) -> CompositeState:
        status = body.get("status")
        if status == "completed":
            return self._finish(pk, body)
        if status == "failed":
            error = object_field(body, "error")
            code = str(error.get("code") or "render_failed")
            self._fail(pk, code, str(error.get("message") or "the render failed"))
            return self.state(pk)
        self._set_details(pk, unreachableSince=None)
        progress = body.get("progress")
        return self.state(
            pk,
            stage=str(body.get("stage") or "queued"),
            progress=float(progress) if isinstance(progress, int | float) else None,
        )

    def _finish(self, pk: int, body: dict[str, Any]) -> CompositeState:
        """A completed job: check its verification, copy its files, probe the copy, then
        complete the row and charge its hold (once)."""
        row = self._row(pk)
        output = ((row.details or {}).get("job") or {}).get("output") or {}
        target = float(output.get("durationSec", row.duration_sec))
        tolerance = float(output.get("toleranceSec", self.settings.compositor_tolerance_sec))
        verification = object_field(body, "verification")
        error = verification.get("durationErrorSec")
        if not isinstance(error, int | float) or not math.isfinite(error) or abs(error) > tolerance:
            self._fail(
                pk,
                "duration_out_of_tolerance",
                f"the output missed the {target:g} s slot (error {error} s, tolerance "
                f"{tolerance:g} s)",
            )
            return self.state(pk)
        assert self.client is not None
        video_key, poster_key = composite_keys(row.id)
        folder = Path(tempfile.mkdtemp(prefix="neariq-composite-", dir=self.temp_root))
        try:
            video, poster = folder / "composite.mp4", folder / "poster.jpg"
            try:
                self.client.download(str(body.get("url")), video)
                self.client.download(str(body.get("posterUrl")), poster)
            except WorkerUnreachable as failure:
                return self._unreachable(pk, str(failure))
            except OutputTooLarge as failure:
                self._fail(pk, "output_too_large", str(failure))
                return self.state(pk)
            except ValueError as failure:  # a completed answer without links of the worker's
                self._fail(pk, "invalid_worker_answer", f"the compositor's answer: {failure}")
                return self.state(pk)
            try:
                video_sec, audio_sec = stream_seconds(video)
                picture = probe(video).video
                if picture is None:
                    raise ValueError("no video stream")
            except Exception as failure:  # whatever PyAV raises, the file is not a video
                self._fail(pk, "output_unreadable", f"the output cannot be read: {failure}")
                return self.state(pk)
            if abs(video_sec - target) > tolerance or abs(audio_sec - target) > tolerance:
                self._fail(
                    pk,
                    "duration_out_of_tolerance",
                    f"the output lasts {video_sec:.3f} s (audio {audio_sec:.3f} s) for a "
                    f"{target:g} s slot",
                )
                return self.state(pk)
            try:
                self.storage.put(poster_key, poster, "image/jpeg")
                self.storage.put(video_key, video, "video/mp4")
            except Exception:  # our storage, not the job: try again at the next poll
                log.exception("composite %s: cannot store the output", pk)
                return self.state(pk)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result = {
            "durationSec": round(video_sec, 4),
            "width": picture.width,
            "height": picture.height,
            "verification": verification,
        }
        details = {**(row.details or {}), "result": result, "unreachableSince": None}
        values = {"video_key": video_key, "thumbnail_key": poster_key, "details": details}
        if not self.ledger.complete_held(pk, values):
            log.info("composite %s was settled by another request first", pk)
        return self.state(pk)

    def _fail(self, pk: int, code: str, message: str) -> None:
        if self.ledger.fail(pk, code=code, message=message):
            log.info("composite %s failed (%s): %s", pk, code, message)

    def _unreachable(self, pk: int, reason: str) -> CompositeState:
        """The worker gave no answer: fail once it has been silent for the grace period (a
        restarted worker resumes its jobs, so a blip must not cost the client its render)."""
        row = self._row(pk)
        now = self.clock.now()
        since_text = (row.details or {}).get("unreachableSince")
        since = datetime.fromisoformat(since_text.replace("Z", "+00:00")) if since_text else now
        if (now - since).total_seconds() >= self.settings.compositor_unreachable_grace_sec:
            self._fail(pk, "compositor_unreachable", f"the compositor stopped answering: {reason}")
        elif since_text is None:
            self._set_details(pk, unreachableSince=iso_millis(now))
        return self.state(pk)

    def _lost(self, row: VideoGeneration) -> CompositeState:
        """The worker does not know the job: our dispatch never reached it, or it lost it."""
        details = row.details or {}
        if int(details.get("dispatches", 0)) >= MAX_DISPATCHES or "job" not in details:
            self._fail(row.pk, "compositor_job_lost", "the compositor has no record of the job")
            return self.state(row.pk)
        return self._send(row.pk, dict(details["job"]), dispatching=False)

    # -- rows ------------------------------------------------------------------------------

    def _row(self, pk: int) -> VideoGeneration:
        with self.db.session() as session:
            return session.get_one(VideoGeneration, pk)

    def _set_details(self, pk: int, **changes: Any) -> None:
        """Merge ``changes`` into a processing row's details (skipped when nothing changes).

        Most polls change nothing, so the check reads first; the write then re-reads under the
        write lock (a SQLite read transaction cannot become a write one once another process
        has written: it fails at once instead of waiting)."""
        row = self._row(pk)
        details = dict(row.details or {})
        if row.status != "processing" or all(details.get(k) == v for k, v in changes.items()):
            return
        with self.db.write() as session:
            row = session.get_one(VideoGeneration, pk)
            details = dict(row.details or {})
            details.update(changes)
            session.execute(
                update(VideoGeneration)
                .where(VideoGeneration.pk == pk, VideoGeneration.status == "processing")
                .values(details=details, updated_at=self.clock.now())
            )

    def _count_dispatch(self, pk: int) -> None:
        row = self._row(pk)
        self._set_details(pk, dispatches=int((row.details or {}).get("dispatches", 0)) + 1)

    def state(
        self, pk: int, *, stage: str | None = None, progress: float | None = None
    ) -> CompositeState:
        with self.db.session() as session:
            row = session.get_one(VideoGeneration, pk)
            credits = session.scalar(
                select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                    CreditEntry.generation_pk == pk, CreditEntry.state == "charged"
                )
            )
        details = row.details or {}
        error = None
        if row.status == "failed":
            error = {"code": row.error_code or "failed", "message": row.error_message or "failed"}
        return CompositeState(
            id=row.id,
            business_id=row.business_id,
            status=row.status,
            credits_used=int(credits or 0),
            video_key=row.video_key,
            thumbnail_key=row.thumbnail_key,
            result=details.get("result"),
            error=error,
            stage=stage if row.status == "processing" else None,
            progress=progress if row.status == "processing" else None,
        )

    def find(self, composite_id: str, business_id: str) -> int:
        """The pk of a composite of ``business_id`` (404 otherwise)."""
        with self.db.session() as session:
            pk = session.scalar(
                select(VideoGeneration.pk).where(
                    VideoGeneration.id == composite_id,
                    VideoGeneration.business_id == business_id,
                    VideoGeneration.kind == "composite",
                )
            )
        if pk is None:
            raise NotFound("no such composite job", field="jobToken")
        return int(pk)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
