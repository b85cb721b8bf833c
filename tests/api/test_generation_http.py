"""The http provider against a small protocol peer on loopback (a real server, real HTTP)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from api.app import create_app
from api.db.models import VideoGeneration
from api.generation.http import HttpProvider
from tests.api.contract import assert_error
from tests.api.support import SEED_PROMPT, ApiClient, free_port

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"peer-video" * 1000
THUMB = b"\xff\xd8\xff\xe0peer-thumbnail"


@dataclass
class Peer:
    """The generation service's side of the protocol, with switches for the tests."""

    base: str = ""
    healthy: bool = True
    polls_before_done: int = 2
    fail: bool = False
    submissions: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def health(request: Request) -> Response:
            return JSONResponse({"status": "ok"}, status_code=200 if self.healthy else 500)

        async def submit(request: Request) -> Response:
            self.auth.append(request.headers.get("authorization"))
            self.submissions.append(await request.json())
            job_id = f"ext-{len(self.submissions)}"
            self.polls[job_id] = 0
            return JSONResponse({"id": job_id}, status_code=201)

        async def status(request: Request) -> Response:
            job_id = request.path_params["job_id"]
            if job_id not in self.polls:
                return JSONResponse({"error": "unknown"}, status_code=404)
            self.polls[job_id] += 1
            if self.polls[job_id] <= self.polls_before_done:
                return JSONResponse({"status": "processing"})
            if self.fail:
                return JSONResponse(
                    {"status": "failed", "error": {"code": "gpu", "message": "GPU fell over"}}
                )
            return JSONResponse(
                {
                    "status": "completed",
                    "videoUrl": f"{self.base}/files/{job_id}.mp4",
                    "thumbnailUrl": f"{self.base}/files/{job_id}.jpg",
                }
            )

        async def files(request: Request) -> Response:
            name = request.path_params["name"]
            return Response(VIDEO if name.endswith(".mp4") else THUMB)

        return Starlette(
            routes=[
                Route("/health", health),
                Route("/generations", submit, methods=["POST"]),
                Route("/generations/{job_id}", status),
                Route("/files/{name}", files),
            ]
        )


@pytest.fixture
def peer() -> Iterator[Peer]:
    state = Peer()
    port = free_port()
    state.base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(state.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "peer did not start"
        time.sleep(0.01)
    yield state
    server.should_exit = True
    thread.join(5)


@contextlib.contextmanager
def http_api(make_services, base_url: str) -> Iterator[ApiClient]:
    provider = HttpProvider(base_url, api_key="peer-secret", poll_sec=0.02, timeout_sec=2)
    services = make_services(provider)
    with TestClient(create_app(services, run_worker=False)) as client:
        yield ApiClient(client, services)


def test_submit_poll_and_store_the_services_files(make_services, world, peer):
    account = world.account()
    with http_api(make_services, peer.base) as api:
        created = api.create(account.key, {"prompt": SEED_PROMPT, "duration": 15}).json()
        assert api.services.worker.run_next()
        video = api.list(account.key).json()["videos"][0]
        assert video["status"] == "completed"
        assert api.http.get(video["videoUrl"]).content == VIDEO
        assert api.http.get(video["thumbnailUrl"]).content == THUMB
    sent = peer.submissions[0]
    assert sent["requestId"] == created["id"]
    assert (sent["prompt"], sent["durationSec"], sent["aspectRatio"]) == (SEED_PROMPT, 15, "16:9")
    assert [shot["title"] for shot in sent["shots"]][1:3] == ["Coaching", "Equipment"]
    assert sum(shot["durationSec"] for shot in sent["shots"]) == 15
    assert peer.auth == ["Bearer peer-secret"]
    assert peer.polls["ext-1"] == 3


def test_a_remote_failure_fails_the_row_and_releases_credits(make_services, world, peer):
    account = world.account()
    peer.fail = True
    with http_api(make_services, peer.base) as api:
        api.create(account.key)
        assert api.services.worker.run_next()
        body = api.list(account.key).json()
    assert body["videos"][0]["status"] == "failed"
    assert body["monthlyUsage"]["used"] == 0


def test_an_unhealthy_service_is_503_before_any_credit_moves(make_services, world, peer):
    account = world.account()
    peer.healthy = False
    with http_api(make_services, peer.base) as api:
        response = api.create(account.key)
        assert_error(response, 503, "video_generation_unavailable", "POST")
        assert api.list(account.key).json() == {
            "videos": [], "total": 0, "monthlyUsage": {"used": 0, "limit": 12}
        }  # fmt: skip
    assert peer.submissions == []


def test_an_unreachable_service_is_503(make_services, world):
    account = world.account()
    with http_api(make_services, f"http://127.0.0.1:{free_port()}") as api:
        assert_error(api.create(account.key), 503, "video_generation_unavailable", "POST")


def test_a_resumed_job_polls_the_known_remote_job_instead_of_resubmitting(
    make_services, world, peer
):
    account = world.account()
    with http_api(make_services, peer.base) as api:
        api.create(account.key)
        # The first process submitted (remote id saved), then died before finishing.
        provider = api.services.provider
        remote_id = provider._submit(api.services.worker.claim().job)
        with api.services.db.session() as session:
            session.execute(
                update(VideoGeneration).values(provider_job_id=remote_id, lease_until=None)
            )
        assert api.services.worker.run_next()
        assert api.list(account.key).json()["videos"][0]["status"] == "completed"
    assert len(peer.submissions) == 1
