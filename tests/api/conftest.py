"""API fixtures: both databases (a fixture parameter), accounts, apps and real servers.

Every API test that takes ``database`` runs on SQLite and on PostgreSQL (a fresh schema per
session, dropped at the end, so parallel runs do not meet). Tables are emptied before each
test. ``world`` makes accounts and, after the test, asserts the credit invariant for every
business it made: monthlyUsage.used == sum(creditsUsed of this month's non-failed rows).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from api.accounts.admin import Admin
from api.accounts.passwords import hash_password
from api.app import create_app
from api.clock import ManualClock
from api.credits.ledger import monthly_usage
from api.credits.rules import month_window
from api.db import migrate
from api.db.engine import Database
from api.db.models import Base, Business, CreditEntry, Plan, User, VideoGeneration
from api.ids import new_id
from api.services import Services, build_services
from api.settings import ApiSettings
from compositor.settings import REPO_ROOT, Settings
from tests.api.fakes import FakeProvider
from tests.mediatools import ffmpeg

PG_URL = os.environ.get("NEARIQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = datetime(2026, 6, 9, 16, 20, tzinfo=UTC)
BACKGROUNDS = ("bg-aurora", "bg-sunset", "bg-ocean", "bg-grid", "bg-pulse")
SEED_PROMPT = "Membership promo showing coaching, equipment, and happy members"


# -- media assets -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bg_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The builtin background loops: the shipped ones, or small lavfi stand-ins until then."""
    shipped = REPO_ROOT / "assets"
    if all((shipped / "media" / f"{name}.mp4").is_file() for name in BACKGROUNDS):
        return shipped
    root = tmp_path_factory.mktemp("assets")
    (root / "media").mkdir()
    (root / "fonts").symlink_to(shipped / "fonts")
    colours = ("0x3050a0:c1=0xa03070", "0xf08030:c1=0x702050", "0x104080:c1=0x20a0a0",
               "0x202020:c1=0x40c040", "0x602080:c1=0xe0e040")  # fmt: skip
    for name, colour in zip(BACKGROUNDS, colours, strict=True):
        ffmpeg(
            "-f", "lavfi", "-i", f"gradients=s=240x240:r=30:d=8:speed=0.02:c0={colour}",
            "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.03:r=48000:d=8,lowpass=f=600",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-shortest", str(root / "media" / f"{name}.mp4"),
        )  # fmt: skip
    return root


@pytest.fixture(scope="session")
def compositor_settings(bg_assets: Path) -> Settings:
    return Settings(preset="ultrafast", assets_dir=bg_assets)


# -- databases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    name: str
    url: str  # usable by another process too (PostgreSQL: search_path in the URL)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "api.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(Database(url))
        yield Backend("sqlite", url)
        return
    schema = f"api_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin_db = Database(PG_URL)
    try:
        with admin_db.engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as error:  # pragma: no cover - the machine promises PostgreSQL
        pytest.fail(f"PostgreSQL at {PG_URL} is required for the API tests: {error}")
    url = str(make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})).replace(
        "***", ""
    )
    migrate.upgrade(Database(url))
    yield Backend("postgresql", url)
    with admin_db.engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin_db.dispose()


@pytest.fixture(scope="session")
def session_databases() -> Iterator[dict[str, Database]]:
    cache: dict[str, Database] = {}
    yield cache
    for database in cache.values():
        database.dispose()


@pytest.fixture
def database(backend: Backend, session_databases: dict[str, Database]) -> Database:
    """The backend's database with every table emptied."""
    db = session_databases.get(backend.url)
    if db is None:
        db = session_databases[backend.url] = Database(backend.url, pool_size=25)
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if db.is_sqlite:
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")
        else:
            connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    return db


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# -- accounts -----------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # once: argon2 is slow on purpose


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
    ) -> Account:
        """A business with a key; with ``team_permissions`` a team owns it and the key's user
        is a member with those permissions."""
        plan = self.plan(credits)
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
        used = monthly_usage(session, business_id, int(limit or 0), FixedNow(now)).used
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


@pytest.fixture
def world(database: Database, clock: ManualClock, password_hash: str) -> Iterator[World]:
    made = World(database, clock, password_hash)
    yield made
    for business_id in made.businesses:
        assert_credit_invariant(database, business_id, clock.now())


# -- apps ---------------------------------------------------------------------------------


@pytest.fixture
def provider(tmp_path: Path) -> FakeProvider:
    return FakeProvider(tmp_path / "fake-provider")


@pytest.fixture
def make_services(
    tmp_path: Path, database: Database, clock: ManualClock, compositor_settings: Settings
):
    def build(provider: Any, **settings: Any) -> Services:
        config = ApiSettings(
            data_dir=tmp_path / "data",
            public_url="http://testserver",
            secret_key="test-secret",
            generation_poll_sec=0.05,
            **settings,
        )
        return build_services(
            config, compositor=compositor_settings, clock=clock, database=database,
            provider=provider,
        )  # fmt: skip

    return build


@pytest.fixture
def api(make_services, provider: FakeProvider) -> Iterator[ApiClient]:
    """An in-process app with the fake provider; the worker is driven by the test."""
    services = make_services(provider)
    with TestClient(
        create_app(services, run_worker=False), raise_server_exceptions=False
    ) as client:
        yield ApiClient(client, services)


@dataclass
class ApiClient:
    http: TestClient
    services: Services

    def create(self, key: str | None, body: Any = None, **headers: str) -> httpx.Response:
        sent = {"X-NearIQ-Key": key} if key is not None else {}
        return self.http.post(
            "/api/v1/video",
            json={"prompt": SEED_PROMPT} if body is None else body,
            headers={**sent, **headers},
        )

    def list(self, key: str | None, **params: Any) -> httpx.Response:
        sent = {"X-NearIQ-Key": key} if key is not None else {}
        return self.http.get("/api/v1/video", params=params, headers=sent)


# -- real servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(env: dict[str, str], *, workers: int = 2) -> Iterator[str]:
    """``neariq serve`` in a subprocess on loopback; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "NEARIQ_PUBLIC_URL": base},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"server exited: {output}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError("server did not start in 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(backend: Backend, data_dir: Path, assets: Path) -> dict[str, str]:
    return {
        "NEARIQ_DATABASE_URL": backend.url,
        "NEARIQ_DATA_DIR": str(data_dir),
        "NEARIQ_SECRET_KEY": "server-test-secret",
        "NEARIQ_GENERATION_WORKERS": "0",  # renders are not what these tests are about
        "COMPOSITOR_ASSETS_DIR": str(assets),
    }
