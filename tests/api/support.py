"""Helpers of the API tests: accounts, clients, the credit invariant, real servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.accounts.admin import Admin
from api.clock import ManualClock
from api.credits.ledger import monthly_usage, recount_usage
from api.credits.rules import month_window
from api.db.engine import Database
from api.db.models import Business, CreditEntry, Plan, User, VideoGeneration
from api.ids import new_id
from api.services import Services
from compositor.settings import REPO_ROOT

PG_URL = os.environ.get("NEARIQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = datetime(2026, 6, 9, 16, 20, tzinfo=UTC)
BACKGROUNDS = ("bg-aurora", "bg-sunset", "bg-ocean", "bg-grid", "bg-pulse")
SEED_PROMPT = "Membership promo showing coaching, equipment, and happy members"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Backend:
    name: str
    url: str  # usable by another process too (PostgreSQL: search_path in the URL)


@dataclass
class Account:
    business_id: str
    user_email: str
    key: str
    plan_name: str
    team_id: str | None = None


@dataclass
class World:
    db: Database
    clock: ManualClock
    password_hash: str
    admin: Admin = field(init=False)
    businesses: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.admin = Admin(self.db, self.clock)

    def user(self, email: str | None = None) -> str:
        email = email or f"{new_id('u', 10).lower()}@example.com"
        with self.db.session() as session:
            session.add(
                User(
                    id=new_id("usr"),
                    email=email,
                    password_hash=self.password_hash,
                    created_at=self.clock.now(),
                )
            )
        return email

    def plan(self, credits: int = 12, **options: Any) -> str:
        name = new_id("plan", 10)
        self.admin.create_plan(name, credits, **options)
        return name

    def account(
        self,
        *,
        credits: int = 12,
        scopes: tuple[str, ...] = ("content:read", "content:write"),
        active: bool = True,
        team_permissions: tuple[str, ...] | None = None,
        raw_key: str | None = None,
        **plan_options: Any,
    ) -> Account:
        """A business with a key; with ``team_permissions`` a team owns it and the key's user
        is a member with those permissions. ``plan_options``: watermark, premium_narration,
        overlays (``Admin.create_plan``)."""
        plan = self.plan(credits, **plan_options)
        email = self.user()
        team_id = None
        if team_permissions is None:
            business_id = self.admin.create_business("Gym", plan=plan, owner_email=email)
        else:
            owner = self.user()
            team_id = self.admin.create_team(new_id("team", 8), owner_email=owner)
            self.admin.add_member(team_id, email, permissions=team_permissions)
            business_id = self.admin.create_business("Team Gym", plan=plan, team=team_id)
        key = self.admin.create_key(email, business_id, scopes=scopes, raw_key=raw_key)
        if not active:
            self.admin.set_business_active(business_id, False)
        self.businesses.append(business_id)
        return Account(business_id, email, key.key, plan, team_id)


def assert_credit_invariant(db: Database, business_id: str, now: datetime) -> None:
    """monthlyUsage.used == sum of creditsUsed over this month's non-failed rows."""
    start, end = month_window(now)
    with db.session() as session:
        limit = session.scalar(
            select(Plan.monthly_video_credits)
            .join(Business, Business.plan_id == Plan.id)
            .where(Business.id == business_id)
        )
        usage = monthly_usage(session, business_id, int(limit or 0), FixedNow(now))
        assert usage == recount_usage(session, business_id, int(limit or 0), FixedNow(now))
        used = usage.used
        rows = session.scalars(
            select(VideoGeneration.pk).where(
                VideoGeneration.business_id == business_id,
                VideoGeneration.created_at >= start,
                VideoGeneration.created_at < end,
                VideoGeneration.status != "failed",
            )
        ).all()
        charged = session.scalar(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.generation_pk.in_(rows), CreditEntry.state == "charged"
            )
        )
    assert used == int(charged or 0), f"{business_id}: used {used} != sum(creditsUsed) {charged}"


@dataclass(frozen=True)
class FixedNow:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


@dataclass
class ApiClient:
    http: TestClient
    services: Services

    def create(self, key: str | None, body: Any = None, **headers: str) -> httpx.Response:
        sent = {"X-NearIQ-Key": key} if key is not None else {}
        if isinstance(body, bytes):
            return self.http.post("/api/v1/video", content=body, headers={**sent, **headers})
        return self.http.post(
            "/api/v1/video",
            json={"prompt": SEED_PROMPT} if body is None else body,
            headers={**sent, **headers},
        )

    def list(self, key: str | None, **params: Any) -> httpx.Response:
        sent = {"X-NearIQ-Key": key} if key is not None else {}
        return self.http.get("/api/v1/video", params=params, headers=sent)


# -- real servers ----


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(env: dict[str, str], *, workers: int = 2) -> Iterator[str]:
    """``neariq serve`` in a subprocess on loopback; yields its base URL.

    Its output goes to a file, not a pipe: nobody reads a pipe while the server runs, and a
    full pipe (access logs) would block the server mid-request.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "NEARIQ_PUBLIC_URL": base},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the workers stop with it
    )

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-4000:]

    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start in 30 s: {output()}")
            time.sleep(0.1)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def server_env(backend: Backend, data_dir: Path, assets: Path) -> dict[str, str]:
    return {
        "NEARIQ_DATABASE_URL": backend.url,
        "NEARIQ_DATA_DIR": str(data_dir),
        "NEARIQ_SECRET_KEY": "server-test-secret",
        "NEARIQ_GENERATION_WORKERS": "0",  # renders are not what these tests are about
        "COMPOSITOR_ASSETS_DIR": str(assets),
    }
