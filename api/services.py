"""Everything a request needs, built once at start-up from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.clock import Clock, SystemClock
from api.credits.ledger import Ledger
from api.db.engine import Database
from api.generation import GenerationProvider
from api.generation.registry import build_provider
from api.generation.worker import GenerationWorker
from api.media import build_storage, resolve_secret
from api.settings import ApiSettings
from compositor.settings import Settings, load_settings


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

    def close(self) -> None:
        close = getattr(self.provider, "close", None)
        if close is not None:
            close()
        self.db.dispose()


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
    return Services(
        settings, compositor, clock, database, ledger, storage, provider, worker, secret
    )
