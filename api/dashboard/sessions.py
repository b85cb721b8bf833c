"""Dashboard sessions: sign-in by email and password, a signed cookie, sign-out that sticks.

The cookie value is a random token signed with itsdangerous (timestamped, so a cookie older
than the session lifetime is refused before any lookup); the database keeps only the token's
SHA-256 in ``app_sessions``, with the expiry and the active business. Sign-out revokes the
row, so a copied cookie stops working at once (a stateless signed cookie could not do that).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.accounts.passwords import hash_password, verify_password
from api.clock import Clock
from api.db.engine import Database
from api.db.models import AppSession, Business, Plan, Team, TeamMembership, User
from api.errors import MissingActiveBusiness, NotFound, Unauthorized
from api.ids import new_id

SIGNER_SALT = "neariq.dashboard-session"
MAX_COOKIE_CHARS = 200


@cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a wrong email costs what a wrong password does."""
    return hash_password("not a real password, only here to spend the same time")


@dataclass(frozen=True)
class BusinessAccess:
    """A business the user may act for, and how."""

    id: str
    name: str
    role: str  # owner (the user owns it) or the team role
    team_id: str | None
    active: bool
    plan: str


@dataclass(frozen=True)
class SessionInfo:
    """A live session, as a request sees it."""

    id: str
    user_id: str
    active_business_id: str | None
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    info: SessionInfo
    cookie_value: str
    user: dict[str, str]
    businesses: tuple[BusinessAccess, ...]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def accessible_businesses(session: Session, user_id: str) -> list[BusinessAccess]:
    """Businesses the user owns, then those of teams the user belongs to (oldest first)."""
    owned = session.execute(
        select(Business, Plan.name)
        .join(Plan, Plan.id == Business.plan_id)
        .where(Business.owner_user_id == user_id)
        .order_by(Business.created_at, Business.id)
    ).all()
    teamed = session.execute(
        select(Business, Plan.name, TeamMembership.role)
        .join(Plan, Plan.id == Business.plan_id)
        .join(Team, Team.id == Business.owner_team_id)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user_id)
        .order_by(Business.created_at, Business.id)
    ).all()
    found = [BusinessAccess(b.id, b.name, "owner", None, b.active, plan) for b, plan in owned]
    found += [
        BusinessAccess(b.id, b.name, role, b.owner_team_id, b.active, plan)
        for b, plan, role in teamed
    ]
    return found


class SessionStore:
    def __init__(self, database: Database, clock: Clock, secret: str, ttl_sec: int) -> None:
        self.db = database
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_sec)
        self.ttl_sec = ttl_sec
        self.signer = TimestampSigner(secret, salt=SIGNER_SALT)

    # -- cookie values --------------------------------------------------------------------

    def cookie_value(self, token: str) -> str:
        return self.signer.sign(token).decode("ascii")

    def token_of(self, cookie_value: str | None) -> str:
        """The token inside a cookie value; Unauthorized if unsigned, forged or too old."""
        if not cookie_value or len(cookie_value) > MAX_COOKIE_CHARS:
            raise Unauthorized("sign in first: no dashboard session")
        try:
            raw = self.signer.unsign(cookie_value, max_age=self.ttl_sec)
        except SignatureExpired:
            raise Unauthorized("the dashboard session has expired; sign in again") from None
        except BadSignature:
            raise Unauthorized("sign in first: the session cookie is not valid") from None
        return raw.decode("ascii", "replace")

    # -- sign in and out ------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> SignedIn:
        """Blocking (argon2): call it from a worker thread. Unauthorized for a wrong email or
        password alike, with the same cost for both."""
        with self.db.session() as session:
            user = session.scalars(
                select(User).where(User.email == email.strip().lower())
            ).one_or_none()
        matched = verify_password(user.password_hash if user else _dummy_hash(), password)
        if user is None or not matched or not user.active:
            raise Unauthorized("the email or password is not right")
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        businesses = self.businesses(user.id)
        active = next((b.id for b in businesses if b.active), None)
        with self.db.session() as session:  # one INSERT: takes the write lock as it starts
            row = AppSession(
                id=new_id("ses"),
                token_hash=token_hash(token),
                user_id=user.id,
                active_business_id=active,
                created_at=now,
                expires_at=now + self.ttl,
            )
            session.add(row)
        info = SessionInfo(row.id, user.id, active, row.expires_at)
        profile = {"id": user.id, "email": user.email, "name": user.name}
        return SignedIn(info, self.cookie_value(token), profile, tuple(businesses))

    def load(self, cookie_value: str | None) -> SessionInfo:
        """The live session of a cookie; Unauthorized when missing, expired or revoked."""
        token = self.token_of(cookie_value)
        with self.db.session() as session:
            found = session.execute(
                select(AppSession, User.active)
                .join(User, User.id == AppSession.user_id)
                .where(AppSession.token_hash == token_hash(token))
            ).one_or_none()
        if found is None:
            raise Unauthorized("sign in first: the session has ended")
        row, user_active = found
        if row.revoked_at is not None or not user_active:
            raise Unauthorized("sign in first: the session has ended")
        if row.expires_at <= self.clock.now():
            raise Unauthorized("the dashboard session has expired; sign in again")
        return SessionInfo(row.id, row.user_id, row.active_business_id, row.expires_at)

    def sign_out(self, session_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(AppSession)
                .where(AppSession.id == session_id, AppSession.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )

    def switch_business(self, info: SessionInfo, business_id: str) -> BusinessAccess:
        """Make ``business_id`` the session's active business: members only (else 404, so
        another business's id is never confirmed), and only an active business (else 400)."""
        chosen = next((b for b in self.businesses(info.user_id) if b.id == business_id), None)
        if chosen is None:
            raise NotFound("no such business", field="businessId")
        if not chosen.active:
            raise MissingActiveBusiness("that business is not active", field="businessId")
        with self.db.session() as session:
            session.execute(
                update(AppSession)
                .where(AppSession.id == info.id)
                .values(active_business_id=business_id)
            )
            return chosen

    def businesses(self, user_id: str) -> list[BusinessAccess]:
        with self.db.session() as session:
            return accessible_businesses(session, user_id)
