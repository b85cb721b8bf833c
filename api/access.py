"""Who is calling and what they may do: the API-key principal and the checks of CONTRACT §2.

Check order on a create: key (401) -> scope (403) -> active business (400) -> team permission
(403) -> plan has video credits (403). The body comes after these, in the route.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.accounts.keys import MAX_PRESENTED_CHARS, hash_key, hashes_match
from api.clock import Clock
from api.credits.rules import require_video_plan
from api.db.engine import Database
from api.db.models import ApiKey, Business, Plan, TeamMembership, User
from api.errors import Forbidden, MissingActiveBusiness, Unauthorized

KEY_HEADER = "X-NearIQ-Key"


@dataclass(frozen=True)
class PlanInfo:
    id: int
    name: str
    monthly_video_credits: int
    watermark: bool
    premium_narration: bool
    overlays: tuple[str, ...]

    @classmethod
    def of(cls, plan: Plan) -> PlanInfo:
        return cls(
            id=plan.id,
            name=plan.name,
            monthly_video_credits=plan.monthly_video_credits,
            watermark=plan.watermark,
            premium_narration=plan.premium_narration,
            overlays=tuple(plan.overlays),
        )


@dataclass(frozen=True)
class Principal:
    """An authenticated caller acting for one business."""

    user_id: str
    business_id: str
    business_active: bool
    plan: PlanInfo
    scopes: frozenset[str]
    key_id: str | None = None
    team_id: str | None = None  # set when a team owns the business
    permissions: frozenset[str] | None = None  # team permissions; None: not a team business

    @property
    def team_member(self) -> bool:
        return self.team_id is None or self.permissions is not None


def team_permissions(session: Session, team_id: str, user_id: str) -> frozenset[str] | None:
    """The user's permissions in the team; None when the user is not a member."""
    granted = session.scalar(
        select(TeamMembership.permissions).where(
            TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
        )
    )
    return frozenset(granted) if granted is not None else None


def load_principal(session: Session, presented: str | None) -> tuple[Principal, datetime | None]:
    """The principal for an ``X-NearIQ-Key`` value and the key's last use, inside the caller's
    transaction; Unauthorized for no, unknown or revoked keys (and disabled users)."""
    if not presented or len(presented) > MAX_PRESENTED_CHARS:
        raise Unauthorized("a valid X-NearIQ-Key header is required")
    found = session.execute(
        select(ApiKey, Business, Plan, User.active)
        .join(Business, Business.id == ApiKey.business_id)
        .join(Plan, Plan.id == Business.plan_id)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == hash_key(presented))
    ).one_or_none()
    if found is None:
        raise Unauthorized("a valid X-NearIQ-Key header is required")
    key, business, plan, user_active = found
    if not hashes_match(key.key_hash, presented) or key.revoked_at is not None or not user_active:
        raise Unauthorized("a valid X-NearIQ-Key header is required")
    permissions = None
    if business.owner_team_id is not None:
        permissions = team_permissions(session, business.owner_team_id, key.user_id)
    principal = Principal(
        user_id=key.user_id,
        business_id=business.id,
        business_active=business.active,
        plan=PlanInfo.of(plan),
        scopes=frozenset(key.scopes or ()),
        key_id=key.id,
        team_id=business.owner_team_id,
        permissions=permissions,
    )
    return principal, key.last_used_at


def touch_key(
    database: Database, clock: Clock, key_id: str | None, last_used: datetime | None,
    interval_sec: int,
) -> None:  # fmt: skip
    """Record the key's use, at most once per ``interval_sec``: a write per read request would
    queue every GET behind the database's write lock (SQLite) for a timestamp nobody needs to
    the second."""
    now = clock.now()
    if key_id is None or (
        last_used is not None and now - last_used < timedelta(seconds=interval_sec)
    ):
        return
    with database.session() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def authenticate_key(
    database: Database, clock: Clock, presented: str | None, *, touch_interval_sec: int = 60
) -> Principal:
    """``load_principal`` in its own transaction, then ``touch_key``."""
    with database.session() as session:
        principal, last_used = load_principal(session, presented)
    touch_key(database, clock, principal.key_id, last_used, touch_interval_sec)
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Forbidden(f"this API key lacks the {scope} scope", code="insufficient_scope")


def require_active_business(principal: Principal) -> None:
    if not principal.business_active:
        raise MissingActiveBusiness("the key's business is not active")


def require_membership(principal: Principal) -> None:
    if not principal.team_member:
        raise Forbidden("you are not a member of the team that owns this business")


def require_permission(principal: Principal, permission: str) -> None:
    require_membership(principal)
    if principal.permissions is not None and permission not in principal.permissions:
        raise Forbidden(f"your team role lacks the {permission} permission")


def require_create_video(principal: Principal) -> None:
    """The create checks after authentication, in the contract's order."""
    require_scope(principal, "content:write")
    require_active_business(principal)
    require_permission(principal, "create_video")
    require_video_plan(principal.plan.monthly_video_credits)
