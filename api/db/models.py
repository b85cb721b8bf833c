"""The records (SQLAlchemy 2 declarative). Migrations in api/migrations mirror this file.

Public ids are prefixed strings (``usr_``, ``biz_``, ``key_``, ``vg_``...). ``video_generations``
also has an integer ``pk``: it orders rows created within the same clock tick (newest first)
and is what ledger entries point at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

GENERATION_KINDS = ("generation", "composite")
GENERATION_STATUSES = ("processing", "completed", "failed")
ENTRY_STATES = ("held", "charged", "released")
PERMISSIONS = ("create_video", "manage_members", "manage_billing")
SCOPES = ("content:read", "content:write")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    monthly_video_credits: Mapped[int] = mapped_column(Integer)
    watermark: Mapped[bool] = mapped_column(Boolean, default=True)
    premium_narration: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_voice: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_music: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_text: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("monthly_video_credits >= 0", name="credits_non_negative"),)

    @property
    def overlays(self) -> list[str]:
        allowed = (("voice", self.allow_voice), ("music", self.allow_music))
        return [name for name, on in (*allowed, ("text", self.allow_text)) if on]


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]


class TeamMembership(Base):
    __tablename__ = "team_memberships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")
    permissions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("team_id", "user_id", name="team_user"),)


class Business(Base):
    __tablename__ = "businesses"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    owner_team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("(owner_user_id IS NULL) <> (owner_team_id IS NULL)", name="one_owner"),
    )


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[str] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class VideoGeneration(Base):
    __tablename__ = "video_generations"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="generation")
    status: Mapped[str] = mapped_column(String(20), default="processing")
    prompt: Mapped[str] = mapped_column(Text)
    duration_sec: Mapped[int] = mapped_column(Integer)
    aspect_ratio: Mapped[str] = mapped_column(String(10))
    style: Mapped[str | None] = mapped_column(String(50))
    script: Mapped[str | None] = mapped_column(Text)
    audio_config: Mapped[dict[str, Any] | None]
    shots: Mapped[list[Any] | None]
    captions: Mapped[list[Any] | None]
    caption_meta: Mapped[dict[str, Any] | None]
    details: Mapped[dict[str, Any] | None]  # kind-specific: composite sources, job ids...
    video_key: Mapped[str | None] = mapped_column(String(512))
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(50))
    provider_job_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("kind IN ('generation', 'composite')", name="kind"),
        CheckConstraint("status IN ('processing', 'completed', 'failed')", name="status"),
        # The v1 list: newest first within a business, optionally by status.
        Index("ix_video_generations_business_newest", "business_id", "pk"),
        Index("ix_video_generations_business_status", "business_id", "status", "pk"),
        Index("ix_video_generations_status_lease", "status", "lease_until"),
    )


class CreditEntry(Base):
    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    generation_pk: Mapped[int] = mapped_column(
        ForeignKey("video_generations.pk", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(30))  # generation | captions | composite
    amount: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ('held', 'charged', 'released')", name="state"),
        Index("ix_credit_ledger_business_month", "business_id", "created_at"),
    )


class CreditMonth(Base):
    """Running totals of the ledger per business and UTC month ("2026-06").

    Kept by the ledger service in the same transaction as every entry change, so the headroom
    check reads one row instead of summing the month's entries (10,000 rows: ~3 ms per create
    on SQLite, inside the write lock). The entries stay the record; tests recount them.
    """

    __tablename__ = "credit_months"

    business_id: Mapped[str] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    charged: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("charged >= 0", name="charged_non_negative"),
        CheckConstraint("held >= 0", name="held_non_negative"),
    )


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    route: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]]
    generation_pk: Mapped[int | None] = mapped_column(
        ForeignKey("video_generations.pk", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("business_id", "route", "key", name="business_route_key"),)


class AppSession(Base):
    """A dashboard sign-in (CONTRACT §5). The cookie carries a random token, signed; only its
    SHA-256 is stored, so a database leak gives no usable cookie. Revoked on sign-out."""

    __tablename__ = "app_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    active_business_id: Mapped[str | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
