"""The credit ledger: the one place credits move, each move in one transaction.

Every entry belongs to one ``video_generations`` row and is ``held``, ``charged`` or
``released``; ``credit_months`` keeps the running totals per business and UTC month, changed in
the same transaction as the entries. A row becomes ``failed`` only through ``fail``, which
releases its entries, so "charged credits of non-failed rows" is the charged total.

Creating a charge or a hold first locks the business (``Database.locked``), then
reads this month's usage, checks headroom and writes, so parallel requests for one business
are serialized on SQLite and PostgreSQL alike. Settling and releasing are conditional updates
(``WHERE state = 'held'``...), so concurrent polls, retries and callbacks move a credit once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.clock import Clock
from api.credits import rules
from api.credits.rules import MonthlyUsage
from api.db.engine import Database
from api.db.models import CreditEntry, CreditMonth, VideoGeneration
from api.errors import MissingActiveBusiness
from api.idempotency import IdempotencyRequest, find_replay, store_response

ResponseBuilder = Callable[[VideoGeneration, MonthlyUsage], dict[str, Any]]


@dataclass(frozen=True)
class Created:
    """A new row and the response body stored with it; ``replayed`` for an idempotent repeat."""

    body: dict[str, Any]
    generation_id: str | None
    replayed: bool


def monthly_usage(session: Session, business_id: str, limit: int, clock: Clock) -> MonthlyUsage:
    """Charged and held credits of this UTC month (entries of non-failed rows)."""
    totals = session.execute(
        select(CreditMonth.charged, CreditMonth.held).where(
            CreditMonth.business_id == business_id,
            CreditMonth.month == rules.month_key(clock.now()),
        )
    ).one_or_none()
    charged, held = totals if totals is not None else (0, 0)
    return MonthlyUsage(int(charged), int(held), limit)


def recount_usage(session: Session, business_id: str, limit: int, clock: Clock) -> MonthlyUsage:
    """The same figure summed from the entries themselves (checks and repairs, not hot paths)."""
    start, end = rules.month_window(clock.now())
    rows = session.execute(
        select(CreditEntry.state, func.coalesce(func.sum(CreditEntry.amount), 0))
        .join(VideoGeneration, VideoGeneration.pk == CreditEntry.generation_pk)
        .where(
            CreditEntry.business_id == business_id,
            CreditEntry.created_at >= start,
            CreditEntry.created_at < end,
            CreditEntry.state.in_(("charged", "held")),
            VideoGeneration.status != "failed",
        )
        .group_by(CreditEntry.state)
    ).all()
    totals = {state: int(amount) for state, amount in rows}
    return MonthlyUsage(totals.get("charged", 0), totals.get("held", 0), limit)


def bump_month(
    session: Session, business_id: str, month: str, *, charged: int = 0, held: int = 0
) -> None:
    """Add to a month's running totals (creating the row on the month's first entry).

    Increments are single UPDATE statements, atomic on both databases. The row is created only
    by entry-creating paths, which hold the business lock, so two inserts never race.
    """
    result = session.execute(
        update(CreditMonth)
        .where(CreditMonth.business_id == business_id, CreditMonth.month == month)
        .values(charged=CreditMonth.charged + charged, held=CreditMonth.held + held)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.add(CreditMonth(business_id=business_id, month=month, charged=charged, held=held))
        session.flush()


class Ledger:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    def usage(self, business_id: str, limit: int) -> MonthlyUsage:
        with self.db.session() as session:
            return monthly_usage(session, business_id, limit, self.clock)

    def create_row(
        self,
        row: VideoGeneration,
        *,
        limit: int,
        credits: int,
        state: str,
        reason: str,
        build_response: ResponseBuilder,
        idempotency: IdempotencyRequest | None = None,
    ) -> Created:
        """Insert ``row`` with an entry of ``credits`` (``charged`` or ``held``), or raise 429.

        With ``idempotency``, a repeat of the same request returns the first response and moves
        nothing; the record is written in the same transaction as the charge.
        """
        assert state in ("charged", "held")
        now = self.clock.now()
        with self.db.locked(row.business_id) as (session, business):
            if business is None or not business.active:
                raise MissingActiveBusiness("the key's business is not active")
            if idempotency is not None:
                replay = find_replay(session, row.business_id, idempotency, now)
                if replay is not None:
                    return Created(replay, None, replayed=True)
            usage = monthly_usage(session, row.business_id, limit, self.clock)
            rules.require_headroom(usage, credits)
            row.created_at = row.updated_at = now
            session.add(row)
            session.flush()  # assigns row.pk
            session.add(self._entry(row, credits, state, reason, now))
            bump_month(session, row.business_id, rules.month_key(now), **{state: credits})
            after = usage.plus_charged(credits) if state == "charged" else usage.plus_held(credits)
            body = build_response(row, after)
            if idempotency is not None:
                store_response(session, row.business_id, idempotency, body, row.pk, now)
            return Created(body, row.id, replayed=False)

    def charge_existing(
        self, business_id: str, generation_pk: int, *, limit: int, credits: int, reason: str
    ) -> MonthlyUsage:
        """Charge more credits to an existing row (captions), after the same headroom check."""
        with self.db.locked(business_id) as (session, business):
            if business is None or not business.active:
                raise MissingActiveBusiness("the business is not active")
            usage = monthly_usage(session, business_id, limit, self.clock)
            rules.require_headroom(usage, credits)
            row = session.get_one(VideoGeneration, generation_pk)
            now = self.clock.now()
            session.add(self._entry(row, credits, "charged", reason, now))
            bump_month(session, business_id, rules.month_key(now), charged=credits)
            return usage.plus_charged(credits)

    def charge_unless(
        self,
        business_id: str,
        generation_pk: int,
        *,
        limit: int,
        credits: int,
        reason: str,
        apply: Callable[[Session, VideoGeneration], bool],
    ) -> tuple[bool, MonthlyUsage]:
        """Under the business lock, ``apply(session, row)`` saves new work on the row and says
        whether it is new (charge ``credits``) or already there (charge nothing). The check and
        the charge share one transaction, so two parallel requests for the same work charge once.
        Returns (charged, usage after)."""
        with self.db.locked(business_id) as (session, business):
            if business is None or not business.active:
                raise MissingActiveBusiness("the business is not active")
            usage = monthly_usage(session, business_id, limit, self.clock)
            row = session.get_one(VideoGeneration, generation_pk)
            if not apply(session, row):
                return False, usage
            rules.require_headroom(usage, credits)  # raising rolls back what apply saved
            now = self.clock.now()
            session.add(self._entry(row, credits, "charged", reason, now))
            bump_month(session, business_id, rules.month_key(now), charged=credits)
            return True, usage.plus_charged(credits)

    def complete_held(self, generation_pk: int, values: dict[str, Any]) -> bool:
        """Mark a processing row completed with ``values`` and charge its held credits, in one
        transaction; True only for the one call that did it (polls, callbacks and the watcher
        may all race here: the conditional update lets exactly one through)."""
        now = self.clock.now()
        with self.db.write() as session:
            result = session.execute(
                update(VideoGeneration)
                .where(VideoGeneration.pk == generation_pk, VideoGeneration.status == "processing")
                .values(status="completed", completed_at=now, updated_at=now, **values)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            self._settle(session, generation_pk, now)
            return True

    def _settle(self, session: Session, generation_pk: int, now: datetime) -> None:
        moved = session.execute(
            update(CreditEntry)
            .where(CreditEntry.generation_pk == generation_pk, CreditEntry.state == "held")
            .values(state="charged", updated_at=now)
            .returning(CreditEntry.business_id, CreditEntry.amount, CreditEntry.created_at)
        ).all()
        for business_id, amount, created_at in moved:
            month = rules.month_key(created_at)
            bump_month(session, business_id, month, charged=amount, held=-amount)

    def settle_hold(self, generation_pk: int) -> bool:
        """Turn the row's held credits into charged ones; True only for the call that did it."""
        with self.db.write() as session:
            moved = session.execute(
                update(CreditEntry)
                .where(CreditEntry.generation_pk == generation_pk, CreditEntry.state == "held")
                .values(state="charged", updated_at=self.clock.now())
                .returning(CreditEntry.business_id, CreditEntry.amount, CreditEntry.created_at)
            ).all()
            for business_id, amount, created_at in moved:
                month = rules.month_key(created_at)
                bump_month(session, business_id, month, charged=amount, held=-amount)
            return bool(moved)

    def release(self, session: Session, generation_pk: int) -> int:
        """Release every held or charged entry of the row (inside the caller's transaction)."""
        released = 0
        for state in ("held", "charged"):
            moved = session.execute(
                update(CreditEntry)
                .where(CreditEntry.generation_pk == generation_pk, CreditEntry.state == state)
                .values(state="released", updated_at=self.clock.now())
                .returning(CreditEntry.business_id, CreditEntry.amount, CreditEntry.created_at)
            ).all()
            for business_id, amount, created_at in moved:
                change = {state: -amount}
                bump_month(session, business_id, rules.month_key(created_at), **change)
                released += 1
        return released

    def fail(self, generation_pk: int, *, code: str, message: str) -> bool:
        """Mark a processing row failed and release its credits, together; False if it was not
        processing any more (another process finished or failed it first)."""
        now = self.clock.now()
        with self.db.write() as session:
            result = session.execute(
                update(VideoGeneration)
                .where(VideoGeneration.pk == generation_pk, VideoGeneration.status == "processing")
                .values(
                    status="failed",
                    error_code=code,
                    error_message=message[:2000],
                    completed_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            self.release(session, generation_pk)
            return True

    @staticmethod
    def _entry(
        row: VideoGeneration, credits: int, state: str, reason: str, now: datetime
    ) -> CreditEntry:
        # ``now`` is the one the month totals use too: one instant, one month.
        return CreditEntry(
            business_id=row.business_id,
            generation_pk=row.pk,
            reason=reason,
            amount=credits,
            state=state,
            created_at=now,
            updated_at=now,
        )
