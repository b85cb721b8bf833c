"""Fixtures of the dashboard tests: real ``neariq serve`` processes (two uvicorn workers) beside
real ``compositor serve`` processes on loopback, per database backend, and small generated
source media (colour clips with a tone) for sources seeded straight into the API's storage."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.db.engine import Database
from tests.api.dashboard.helpers import (
    CallbackRelay,
    Stack,
    api_environment,
    closed_port_url,
    running_api,
)
from tests.api.support import Backend
from tests.mediatools import colour_clip
from tests.worker.helpers import start_worker_process


@dataclass(frozen=True)
class SourceMedia:
    red: Path  # 5 s, 440 Hz
    blue: Path  # 5 s, 880 Hz
    red_half: Path  # 2.5 s
    green_half: Path  # 2.5 s
    long: Path  # 15 s of testsrc-like colour, for a render long enough to interrupt


@pytest.fixture(scope="session")
def source_media(tmp_path_factory: pytest.TempPathFactory) -> SourceMedia:
    root = tmp_path_factory.mktemp("dashboard-media")
    return SourceMedia(
        red=colour_clip(root / "red.mp4", "red", 5, tone=440),
        blue=colour_clip(root / "blue.mp4", "blue", 5, tone=880),
        red_half=colour_clip(root / "red_half.mp4", "red", 2.5, tone=440),
        green_half=colour_clip(root / "green_half.mp4", "green", 2.5, tone=660),
        long=colour_clip(root / "long.mp4", "gray", 15, size="640x360", tone=330),
    )


@pytest.fixture(autouse=True)
def _wall_clock(clock) -> None:
    """The servers run on the wall clock; the accounts and the invariant check use it too."""
    clock.set(datetime.now(UTC))


@contextlib.contextmanager
def make_stack(
    backend: Backend, root: Path, assets: Path, *, workers: int = 2, **api_env: str
) -> Iterator[Stack]:
    """A worker process and an API pointed at it (SQLite or PostgreSQL per ``backend``)."""
    root.mkdir(parents=True, exist_ok=True)
    worker = start_worker_process(
        {"COMPOSITOR_DATA_DIR": str(root / "worker")}, root / "worker.log"
    )
    env = api_environment(backend.url, root / "api", assets, worker.base_url, **api_env)
    db = Database(backend.url, pool_size=4)
    try:
        with running_api(env, workers=workers) as base:
            stack = Stack(base, worker, root / "api", db)
            try:
                yield stack
            finally:
                stack.close()
    finally:
        worker.stop()
        db.dispose()


@pytest.fixture(scope="package")
def relay() -> Iterator[CallbackRelay]:
    made = CallbackRelay()
    yield made
    made.close()


@pytest.fixture(scope="package")
def stack(backend, tmp_path_factory, bg_assets, relay) -> Iterator[Stack]:
    """One API + worker per backend for the package: callbacks go through the relay, premium
    narration points at a closed port (down), a worker that stops answering fails a job at once.
    """
    root = tmp_path_factory.mktemp(f"stack-{backend.name}")
    with make_stack(
        backend,
        root,
        bg_assets,
        NEARIQ_COMPOSITOR_CALLBACK_URL=relay.url,
        NEARIQ_COMPOSITOR_UNREACHABLE_GRACE_SEC="0",
        COMPOSITOR_PREMIUM_TTS_URL=closed_port_url(),
    ) as made:
        relay.target = made.base
        made.relay = relay
        yield made


@pytest.fixture
def own_stack(
    backend, tmp_path, bg_assets
) -> Iterator[Callable[..., contextlib.AbstractContextManager[Stack]]]:
    """A stack of the test's own (for tests that kill its worker)."""

    def start(**api_env: str) -> contextlib.AbstractContextManager[Stack]:
        return make_stack(backend, tmp_path / "own", bg_assets, **api_env)

    yield start
