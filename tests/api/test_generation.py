"""Generation in the background: the local provider's real renders, failures that release
credits, leases, deadlines and restarts. Not database-specific: runs on SQLite only."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from api.app import create_app
from api.db.models import VideoGeneration
from api.generation.local import LocalProvider, render_with_compositor
from compositor.errors import RenderFailed
from tests.api.support import SEED_PROMPT, ApiClient
from tests.mediatools import frame_at, mean_rgb, stream_durations, video_info

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def row(api) -> VideoGeneration:
    with api.services.db.session() as session:
        return session.query(VideoGeneration).one()


def set_row(api, **values) -> None:
    with api.services.db.session() as session:
        session.execute(update(VideoGeneration).values(**values))


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def local_api(make_services, compositor_settings):
    def build(render_shot=render_with_compositor):
        provider = LocalProvider(compositor_settings, resolution="preview", render_shot=render_shot)
        services = make_services(provider)
        return services

    return build


def test_local_provider_renders_titled_shots_a_preview_and_a_thumbnail(local_api, world, tmp_path):

    account = world.account()
    services = local_api()
    with TestClient(create_app(services, run_worker=False)) as client:
        api = ApiClient(client, services)
        created = api.create(account.key, {"prompt": SEED_PROMPT, "duration": 5,
                                           "aspectRatio": "9:16"}).json()  # fmt: skip
        assert services.worker.run_next()
        video = api.list(account.key).json()["videos"][0]
        assert video["status"] == "completed", row(api).error_message
        preview = tmp_path / "preview.mp4"
        preview.write_bytes(client.get(video["videoUrl"]).content)
        thumbnail = client.get(video["thumbnailUrl"])
        ranged = client.get(video["videoUrl"], headers={"Range": "bytes=0-99"})
    info = video_info(preview)
    assert (info["width"], info["height"], info["codec"]) == (540, 960, "h264")
    assert (info["sample_rate"], info["channels"]) == (48000, 2)

    assert abs(stream_durations(preview)[0] - 5.0) <= 0.1
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
    assert ranged.status_code == 206 and len(ranged.content) == 100
    saved = row(api)
    assert saved.id == created["id"]
    assert [shot["status"] for shot in saved.shots] == ["completed"] * len(saved.shots)
    assert 3 <= len(saved.shots) <= 5
    assert all(services.storage.exists(shot["key"]) for shot in saved.shots)
    # The title sits in the middle of each shot: white text where the gradient has none.
    second = saved.shots[1]
    frame = frame_at(preview, second["startSec"] + second["durationSec"] / 2)
    centre = frame[400:560, 120:420].reshape(-1, 3)
    corner = frame[0:160, 0:120].reshape(-1, 3)
    white = lambda pixels: int(np.sum(np.all(pixels > 225, axis=1)))  # noqa: E731
    assert white(centre) > 200 and white(corner) == 0
    assert mean_rgb(frame).sum() > 0


def test_a_failing_shot_render_fails_the_job_and_releases_its_credits(local_api, world):

    rendered: list[Path] = []

    def fail_second_shot(job, output, resolver, settings, context):
        if output.name == "shot-1.mp4":
            raise RenderFailed("FFmpeg exited with status 1", stderr_tail="injected")
        rendered.append(output)
        return render_with_compositor(job, output, resolver, settings, context)

    account = world.account(credits=2)
    services = local_api(fail_second_shot)
    with TestClient(create_app(services, run_worker=False)) as client:
        api = ApiClient(client, services)
        api.create(account.key, {"prompt": SEED_PROMPT, "duration": 5})
        assert api.list(account.key).json()["monthlyUsage"]["used"] == 1
        assert services.worker.run_next()
        body = api.list(account.key).json()
    assert [path.name for path in rendered] == ["shot-0.mp4"]
    assert body["videos"][0]["status"] == "failed"
    assert body["videos"][0]["videoUrl"] is None
    assert body["monthlyUsage"]["used"] == 0
    saved = row(api)
    assert saved.error_code == "render_failed" and saved.completed_at is not None


def test_renders_run_off_the_event_loop(api, world, provider, make_services):
    """While a job runs in a worker thread, the API keeps answering."""
    account = world.account()
    provider.gate = threading.Event()
    services = make_services(provider)

    with TestClient(create_app(services, run_worker=True)) as client:
        live = ApiClient(client, services)
        live.create(account.key)
        assert provider.started.wait(5)
        # The job is blocked inside the provider; the API still answers (the client's own
        # timeout would fail this if the event loop were busy with it).
        assert live.list(account.key).json()["videos"][0]["status"] == "processing"
        provider.gate.set()
        wait_until(lambda: live.list(account.key).json()["videos"][0]["status"] == "completed")


def test_a_job_left_by_a_dead_process_is_resumed_at_start_up(api, world, provider, make_services):
    account = world.account()
    api.create(account.key)
    # As a crashed process leaves it: claimed once, its lease run out.
    set_row(api, lease_owner="dead-host:1:x", attempts=1,
            lease_until=api.services.clock.now() - timedelta(seconds=1))  # fmt: skip
    services = make_services(provider)
    with TestClient(create_app(services, run_worker=True)):
        wait_until(lambda: row(api).status == "completed")
    saved = row(api)
    assert saved.attempts == 2 and saved.lease_owner is None


def test_a_job_past_its_deadline_is_failed_at_start_up_with_credits_released(
    api, world, provider, make_services, clock
):
    account = world.account()
    api.create(account.key)
    set_row(api, lease_owner="dead-host:1:x", lease_until=clock.now() + timedelta(hours=1))
    clock.advance(seconds=api.services.settings.generation_deadline_sec + 1)
    services = make_services(provider)
    with TestClient(create_app(services, run_worker=True)):
        saved = row(api)  # start-up already did it, before serving
    assert (saved.status, saved.error_code) == ("failed", "generation_timeout")
    assert api.services.ledger.usage(account.business_id, 12).used == 0
    assert provider.runs == []


def test_a_job_interrupted_too_often_is_failed_not_retried_forever(api, world, provider):
    account = world.account()
    api.create(account.key)
    set_row(api, attempts=api.services.settings.generation_max_attempts)
    assert api.services.worker.run_next()
    saved = row(api)
    assert (saved.status, saved.error_code) == ("failed", "generation_interrupted")
    assert provider.runs == []
    assert api.services.ledger.usage(account.business_id, 12).used == 0


def test_a_running_job_past_its_deadline_is_cancelled_and_failed(api, world, provider, clock):
    account = world.account()
    api.create(account.key)
    provider.gate = threading.Event()
    runner = threading.Thread(target=api.services.worker.run_next)
    runner.start()
    assert provider.started.wait(5)
    clock.advance(seconds=api.services.settings.generation_deadline_sec + 1)
    api.services.worker.maintain()
    runner.join(5)
    assert not runner.is_alive(), "the provider saw the cancel"
    saved = row(api)
    assert (saved.status, saved.error_code) == ("failed", "generation_timeout")
    assert api.services.ledger.usage(account.business_id, 12).used == 0


def test_shutdown_gives_the_lease_back_and_the_next_start_finishes_the_job(
    api, world, provider, make_services
):
    account = world.account()
    provider.gate = threading.Event()
    services = make_services(provider)

    with TestClient(create_app(services, run_worker=True)) as client:
        ApiClient(client, services).create(account.key)
        assert provider.started.wait(5)
    saved = row(api)
    assert (saved.status, saved.lease_owner, saved.lease_until) == ("processing", None, None)
    provider.gate.set()
    assert api.services.worker.run_next()
    assert row(api).status == "completed"
