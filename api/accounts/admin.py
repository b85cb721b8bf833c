"""Operator actions (the ``neariq admin`` commands, dev-seed and tests call these)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.accounts.keys import generate_key, hash_key, visible_prefix
from api.accounts.passwords import hash_password
from api.clock import Clock
from api.db.engine import Database
from api.db.models import (
    PERMISSIONS,
    SCOPES,
    ApiKey,
    Business,
    Plan,
    Team,
    TeamMembership,
    User,
)
from api.ids import new_id


class AdminError(Exception):
    """Raised when an admin action cannot be done (unknown name, duplicate, bad value)."""


@dataclass(frozen=True)
class CreatedKey:
    id: str
    key: str  # shown once, never stored
    prefix: str
    business_id: str
    scopes: tuple[str, ...]


class Admin:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    def create_plan(
        self,
        name: str,
        monthly_video_credits: int,
        *,
        watermark: bool = True,
        premium_narration: bool = False,
        overlays: Iterable[str] = ("voice", "music", "text"),
    ) -> int:
        if monthly_video_credits < 0:
            raise AdminError("monthly video credits cannot be negative")
        allowed = set(overlays)
        if allowed - {"voice", "music", "text"}:
            raise AdminError(f"unknown overlays: {sorted(allowed - {'voice', 'music', 'text'})}")
        plan = Plan(
            name=name,
            monthly_video_credits=monthly_video_credits,
            watermark=watermark,
            premium_narration=premium_narration,
            allow_voice="voice" in allowed,
            allow_music="music" in allowed,
            allow_text="text" in allowed,
            created_at=self.clock.now(),
        )
        self._insert(plan, f"a plan named {name!r} exists")
        return plan.id

    def create_user(self, email: str, password: str, *, name: str = "") -> str:
        email = email.strip().lower()
        if "@" not in email:
            raise AdminError(f"not an email address: {email!r}")
        user = User(
            id=new_id("usr"),
            email=email,
            name=name,
            password_hash=hash_password(password),
            created_at=self.clock.now(),
        )
        self._insert(user, f"a user with email {email!r} exists")
        return user.id

    def create_team(self, name: str, *, owner_email: str | None = None) -> str:
        team = Team(id=new_id("team"), name=name, created_at=self.clock.now())
        self._insert(team, f"a team named {name!r} exists")
        if owner_email:
            self.add_member(team.id, owner_email, role="owner", permissions=PERMISSIONS)
        return team.id

    def add_member(
        self,
        team: str,
        email: str,
        *,
        role: str = "member",
        permissions: Iterable[str] = ("create_video",),
    ) -> None:
        granted = sorted(set(permissions))
        unknown = set(granted) - set(PERMISSIONS)
        if unknown:
            raise AdminError(f"unknown permissions: {sorted(unknown)}")
        with self.db.write() as session:
            team_id = self._team_id(session, team)
            user_id = self._user_id(session, email)
            existing = session.scalars(
                select(TeamMembership).where(
                    TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
                )
            ).one_or_none()
            if existing is not None:
                existing.role, existing.permissions = role, granted
                return
            session.add(
                TeamMembership(
                    team_id=team_id,
                    user_id=user_id,
                    role=role,
                    permissions=granted,
                    created_at=self.clock.now(),
                )
            )

    def create_business(
        self,
        name: str,
        *,
        plan: str,
        owner_email: str | None = None,
        team: str | None = None,
        active: bool = True,
    ) -> str:
        if (owner_email is None) == (team is None):
            raise AdminError("a business is owned by exactly one user or one team")
        with self.db.write() as session:
            plan_row = session.scalars(select(Plan).where(Plan.name == plan)).one_or_none()
            if plan_row is None:
                raise AdminError(f"no plan named {plan!r}")
            business = Business(
                id=new_id("biz"),
                name=name,
                owner_user_id=self._user_id(session, owner_email) if owner_email else None,
                owner_team_id=self._team_id(session, team) if team else None,
                plan_id=plan_row.id,
                active=active,
                created_at=self.clock.now(),
            )
            session.add(business)
            return business.id

    def set_business_active(self, business_id: str, active: bool) -> None:
        with self.db.write() as session:
            business = session.get(Business, business_id)
            if business is None:
                raise AdminError(f"no business {business_id!r}")
            business.active = active

    def create_key(
        self,
        email: str,
        business_id: str,
        *,
        scopes: Iterable[str] = SCOPES,
        name: str = "",
        raw_key: str | None = None,
    ) -> CreatedKey:
        """A new key for ``email`` on ``business_id``; ``raw_key`` only for fixtures."""
        granted = tuple(sorted(set(scopes)))
        if not granted or set(granted) - set(SCOPES):
            raise AdminError(f"scopes must be among {list(SCOPES)}")
        key = raw_key or generate_key()
        with self.db.write() as session:
            user_id = self._user_id(session, email)
            business = session.get(Business, business_id)
            if business is None:
                raise AdminError(f"no business {business_id!r}")
            if not self._may_use(session, user_id, business):
                raise AdminError(f"{email} is neither the owner nor a member of the business")
            row = ApiKey(
                id=new_id("key"),
                user_id=user_id,
                business_id=business_id,
                name=name,
                prefix=visible_prefix(key),
                key_hash=hash_key(key),
                scopes=list(granted),
                created_at=self.clock.now(),
            )
            session.add(row)
        return CreatedKey(row.id, key, row.prefix, business_id, granted)

    def revoke_key(self, key_id_or_prefix: str) -> str:
        with self.db.write() as session:
            rows = session.scalars(
                select(ApiKey).where(
                    (ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix)
                )
            ).all()
            if len(rows) != 1:
                raise AdminError(
                    f"{key_id_or_prefix!r} matches {len(rows)} keys; give the key id instead"
                )
            if rows[0].revoked_at is None:
                rows[0].revoked_at = self.clock.now()
            return rows[0].id

    def _insert(self, row: object, duplicate_message: str) -> None:
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            raise AdminError(duplicate_message) from None

    @staticmethod
    def _user_id(session: Session, email: str) -> str:
        user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
        if user_id is None:
            raise AdminError(f"no user with email {email!r}")
        return str(user_id)

    @staticmethod
    def _team_id(session: Session, team: str) -> str:
        team_id = session.scalar(select(Team.id).where((Team.id == team) | (Team.name == team)))
        if team_id is None:
            raise AdminError(f"no team {team!r}")
        return str(team_id)

    @staticmethod
    def _may_use(session: Session, user_id: str, business: Business) -> bool:
        if business.owner_user_id is not None:
            return business.owner_user_id == user_id
        membership = session.scalar(
            select(TeamMembership.id).where(
                TeamMembership.team_id == business.owner_team_id,
                TeamMembership.user_id == user_id,
            )
        )
        return membership is not None
