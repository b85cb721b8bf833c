"""Everything a request needs, built once at start-up from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from api.clock import Clock, SystemClock
from api.compositing.client import CompositorClient
from api.compositing.service import CompositeService
from api.compositing.tokens import JobTokens
from api.compositing.watcher import CompositeWatcher
from api.credits.ledger import Ledger
from api.dashboard.sessions import SessionStore
from api.db.engine import Database
from api.generation import GenerationProvider
from api.generation.registry import build_provider
from api.generation.worker import GenerationWorker
from api.media import MEDIA_ROUTE, build_storage, resolve_secret
from api.settings import ApiSettings
from compositor.settings import Settings, load_settings
from compositor.storage.local import LocalStorage


@dataclass
class Services:
    settings: ApiSettings
    compositor: Settings
    clock: Clock
    db: Database
    ledger: Ledger
    storage: Any  # compositor.storage.Storage (LocalStorage or S3Storage)
    provider: GenerationProvider
    worker: GenerationWorker
    secret: str
    sessions: SessionStore
    tokens: JobTokens
    composites: CompositeService
    watcher: CompositeWatcher

    def close(self) -> None:
        close = getattr(self.provider, "close", None)
        if close is not None:
            close()
        self.composites.close()
        self.db.dispose()


def build_compositor_client(
    settings: ApiSettings, transport: httpx.BaseTransport | None = None
) -> CompositorClient | None:
    """The worker's client, or None when no worker is configured (composites answer 503)."""
    if not settings.compositor_url:
        return None
    if not settings.compositor_secret_list:
        raise ValueError("NEARIQ_COMPOSITOR_SECRETS is required with NEARIQ_COMPOSITOR_URL")
    return CompositorClient(
        settings.compositor_url,
        settings.compositor_secret_list,
        timeout_sec=settings.compositor_timeout_sec,
        max_output_bytes=settings.compositor_max_output_bytes,
        transport=transport,
    )


def build_media_signer(settings: ApiSettings, storage: Any, secret: str) -> Any:
    """Signs the source links the worker fetches: our media route at the address the worker
    reaches us by (local storage), or the storage's own presigned links (S3)."""
    if not isinstance(storage, LocalStorage):
        return storage
    base = (settings.compositor_media_url or settings.public_url).rstrip("/")
    return LocalStorage(settings.media_dir, base_url=base + MEDIA_ROUTE, secrets=[secret])


def build_services(
    settings: ApiSettings,
    *,
    compositor: Settings | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
    provider: GenerationProvider | None = None,
    storage: Any = None,
) -> Services:
    """Production wiring; tests pass their own clock, database, provider or storage."""
    compositor = compositor or load_settings()
    clock = clock or SystemClock()
    database = database or Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        sqlite_busy_timeout_sec=settings.sqlite_busy_timeout_sec,
    )
    secret = resolve_secret(settings)
    storage = storage or build_storage(settings, secret)
    provider = provider or build_provider(settings, compositor)
    ledger = Ledger(database, clock)
    worker = GenerationWorker(
        database,
        ledger,
        provider,
        storage,
        clock,
        workers=settings.generation_workers,
        lease_sec=settings.generation_lease_sec,
        max_attempts=settings.generation_max_attempts,
        poll_sec=settings.generation_poll_sec,
    )
    composites = CompositeService(
        settings,
        database,
        ledger,
        storage,
        build_media_signer(settings, storage, secret),
        build_compositor_client(settings),
        clock,
        temp_root=compositor.temp_root(),
    )
    return Services(
        settings=settings,
        compositor=compositor,
        clock=clock,
        db=database,
        ledger=ledger,
        storage=storage,
        provider=provider,
        worker=worker,
        secret=secret,
        sessions=SessionStore(database, clock, secret, settings.session_ttl_sec),
        tokens=JobTokens(secret),
        composites=composites,
        watcher=CompositeWatcher(composites, interval_sec=settings.compositor_poll_sec),
    )
