"""API fixtures: both databases (a fixture parameter), accounts, apps and real servers.

Every API test that takes ``database`` runs on SQLite and on PostgreSQL (a fresh schema per
session, dropped at the end, so parallel runs do not meet). Tables are emptied before each
test. ``world`` makes accounts and, after the test, asserts the credit invariant for every
business it made: monthlyUsage.used == sum(creditsUsed of this month's non-failed rows).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from api.accounts.passwords import hash_password
from api.app import create_app
from api.clock import ManualClock
from api.db import migrate
from api.db.engine import Database
from api.db.models import Base
from api.services import Services, build_services
from api.settings import ApiSettings
from compositor.settings import REPO_ROOT, Settings
from tests.api.fakes import FakeProvider
from tests.api.support import (
    BACKGROUNDS,
    PASSWORD,
    PG_URL,
    START,
    ApiClient,
    Backend,
    World,
    assert_credit_invariant,
)

# -- media assets -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bg_assets() -> Path:
    """The shipped assets: fonts and the builtin background loops the local provider uses."""
    shipped = REPO_ROOT / "assets"
    missing = [name for name in BACKGROUNDS if not (shipped / "media" / f"{name}.mp4").is_file()]
    assert not missing, f"assets/media lacks {missing} (scripts/make_assets.py makes them)"
    return shipped


@pytest.fixture(scope="session")
def compositor_settings(bg_assets: Path) -> Settings:
    return Settings(preset="ultrafast", assets_dir=bg_assets)


# -- databases ----------------------------------------------------------------------------


def schema_url(url: str, schema: str) -> str:
    """The URL with ``search_path`` set: every connection, in any process, uses ``schema``."""
    with_path = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return with_path.render_as_string(hide_password=False)


def ensure_pg_database(url: str) -> None:
    """Create the test database on a fresh server (CI machines have it; a clean one may not)."""
    target = make_url(url)
    try:
        probe = Database(url)
        with probe.engine.connect():
            pass
        probe.dispose()
        return
    except Exception as error:
        if "does not exist" not in str(error):
            pytest.fail(f"PostgreSQL at {url} is required for the API tests: {error}")
    server = Database(target.set(database="postgres").render_as_string(hide_password=False))
    with server.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    server.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "api.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(Database(url))
        yield Backend("sqlite", url)
        return
    schema = f"api_test_{os.getpid()}_{secrets.token_hex(4)}"
    ensure_pg_database(PG_URL)
    admin_db = Database(PG_URL)
    with admin_db.engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = schema_url(PG_URL, schema)
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


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # once: argon2 is slow on purpose


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


# -- real servers -------------------------------------------------------------------------
