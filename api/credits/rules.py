"""Credit rules (CONTRACT §4), pure: integer credits, UTC calendar months, headroom.

Nothing here touches the database or the clock; the ledger service feeds it numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from api.errors import CreditLimitExceeded, Forbidden

DURATIONS_SEC: tuple[int, ...] = (5, 15, 30)
CREDITS_BY_DURATION: Mapping[int, int] = MappingProxyType({5: 1, 15: 2, 30: 4})
CAPTION_CREDITS = 1
COMPOSITE_CREDITS = 1


@dataclass(frozen=True)
class MonthlyUsage:
    """This month's ``charged`` and ``held`` credits of non-failed rows, and the plan's limit."""

    used: int
    held: int
    limit: int

    def to_dict(self) -> dict[str, int]:
        return {"used": self.used, "limit": self.limit}

    def plus_charged(self, credits: int) -> MonthlyUsage:
        return MonthlyUsage(self.used + credits, self.held, self.limit)

    def plus_held(self, credits: int) -> MonthlyUsage:
        return MonthlyUsage(self.used, self.held + credits, self.limit)


def credits_for_duration(duration_sec: int) -> int:
    """5 s -> 1, 15 s -> 2, 30 s -> 4."""
    try:
        return CREDITS_BY_DURATION[duration_sec]
    except KeyError:
        raise ValueError(f"no credit price for a {duration_sec} s video") from None


def month_window(now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the UTC calendar month that contains ``now``."""
    now = now.astimezone(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    end = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_key(moment: datetime) -> str:
    """The UTC calendar month of ``moment`` as ``YYYY-MM`` (the ledger's running totals)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def has_headroom(usage: MonthlyUsage, requested: int) -> bool:
    """``used + held + requested <= limit`` (a hold counts until it is charged or released)."""
    return usage.used + usage.held + requested <= usage.limit


def require_headroom(usage: MonthlyUsage, requested: int) -> None:
    if not has_headroom(usage, requested):
        raise CreditLimitExceeded(
            f"this needs {requested} video credits; {max(usage.limit - usage.used - usage.held, 0)}"
            f" of {usage.limit} are left this month",
            extra={"monthlyUsage": usage.to_dict(), "creditsRequired": requested},
        )


def require_video_plan(monthly_video_credits: int) -> None:
    """A plan with 0 monthly video credits has no video at all (403, before the body)."""
    if monthly_video_credits <= 0:
        raise Forbidden(
            "the business's plan does not include video generation", code="plan_not_allowed"
        )
