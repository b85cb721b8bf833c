"""Helpers of the dashboard tests: a real API (uvicorn) beside a real compositor worker, a
callback relay that can hold the worker's callback, signed-in clients, sources seeded straight
into the database and the API's media folder, and ledger reads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from api.audio_config import DEFAULT_AUDIO_CONFIG
from api.db.engine import Database
from api.db.models import CreditEntry, CreditMonth, VideoGeneration
from api.ids import new_id
from compositor.storage.local import LocalStorage
from tests.api.support import PASSWORD, Account, uvicorn_server
from tests.worker.helpers import SECRET, SignedClient, WorkerProcess, free_port, wait_until

API_SECRET = "server-test-secret"
SCRIPT = "Meet the gym that fits your day. Coaching, classes and a friendly crew. Join today."


class CallbackRelay:
    """Stands between the worker and the API's callback route: forwards each callback as it
    came (path, headers, body: the signature still verifies), or holds it while ``armed``."""

    def __init__(self) -> None:
        self.target: str | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.received = threading.Event()
        self.answers: list[int] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                relay.received.set()
                relay.gate.wait(60)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower().startswith("x-compositor") or k.lower() == "content-type"
                }
                try:
                    reply = httpx.post(
                        f"{relay.target}{self.path}", content=body, headers=headers, timeout=60
                    )
                    status, content = reply.status_code, reply.content
                except httpx.HTTPError:
                    status, content = 502, b"{}"
                relay.answers.append(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/compositor/callback"

    def arm(self) -> None:
        """Hold the next callbacks; answers are counted from here (earlier tests' late
        callbacks do not count)."""
        self.answers.clear()
        self.received.clear()
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def close(self) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Stack:
    """A running API (``base``) and its worker."""

    base: str
    worker: WorkerProcess
    data_dir: Path
    db: Database
    relay: CallbackRelay | None = None
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def storage(self) -> LocalStorage:
        return LocalStorage(
            self.data_dir / "media", base_url=f"{self.base}/api/media", secrets=[API_SECRET]
        )

    def signed_in(self, account: Account, *, origin: str | None = None) -> httpx.Client:
        """A client with the account's session cookie that sends the dashboard's Origin."""
        client = httpx.Client(
            base_url=self.base, timeout=60, headers={"Origin": origin or self.base}
        )
        reply = client.post(
            "/api/auth/session", json={"email": account.user_email, "password": PASSWORD}
        )
        assert reply.status_code == 200, reply.text
        self.clients.append(client)
        return client

    def worker_client(self) -> SignedClient:
        return SignedClient(self.worker.base_url, SECRET)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def api_environment(
    backend_url: str, data_dir: Path, assets: Path, worker_url: str, **overrides: str
) -> dict[str, str]:
    env = {
        "NEARIQ_DATABASE_URL": backend_url,
        "NEARIQ_DATA_DIR": str(data_dir),
        "NEARIQ_SECRET_KEY": API_SECRET,
        "NEARIQ_GENERATION_WORKERS": "0",
        "NEARIQ_RENDER_RESOLUTION": "preview",
        "NEARIQ_COMPOSITOR_URL": worker_url,
        "NEARIQ_COMPOSITOR_SECRETS": SECRET,
        # the tests poll; the watcher would settle jobs behind their back
        "NEARIQ_COMPOSITOR_POLL_SEC": "3600",
        "COMPOSITOR_ASSETS_DIR": str(assets),
        "COMPOSITOR_PRESET": "ultrafast",
    }
    env.update(overrides)
    return env


@contextlib.contextmanager
def running_api(env: dict[str, str], *, workers: int = 2) -> Iterator[str]:
    with uvicorn_server(env, workers=workers) as base:
        yield base


def closed_port_url() -> str:
    """A loopback URL where nothing listens (a provider that is down)."""
    return f"http://127.0.0.1:{free_port()}"


# -- sources -----------------------------------------------------------------------------------


def seed_source(
    db: Database,
    storage: LocalStorage,
    account: Account,
    video: Path,
    *,
    status: str = "completed",
    duration_sec: int = 5,
    aspect: str = "16:9",
    script: str | None = SCRIPT,
    shots: list[Path] | None = None,
    prompt: str = "Membership promo showing coaching, equipment, and happy members",
) -> str:
    """A generation row of the account's business with real media in the API's storage, as if
    the provider had made it (no credit entries: nothing is charged for it here)."""
    video_id = new_id("vg")
    now = datetime.now(UTC)
    shot_rows = []
    start = 0.0
    for index, path in enumerate(shots or []):
        key = f"generations/{video_id}/shot-{index}.mp4"
        storage.put(key, path, "video/mp4")
        length = duration_sec / len(shots or [1])
        shot_rows.append(
            {
                "index": index,
                "title": f"Shot {index}",
                "description": f"shot {index}",
                "startSec": start,
                "durationSec": length,
                "status": status,
                "key": key,
            }
        )
        start += length
    video_key = f"generations/{video_id}/preview.mp4"
    if status == "completed":
        storage.put(video_key, video, "video/mp4")
    with db.session() as session:
        session.add(
            VideoGeneration(
                id=video_id,
                business_id=account.business_id,
                kind="generation",
                status=status,
                prompt=prompt,
                duration_sec=duration_sec,
                aspect_ratio=aspect,
                script=script,
                audio_config=dict(DEFAULT_AUDIO_CONFIG),
                shots=shot_rows,
                video_key=video_key if status == "completed" else None,
                provider="seeded",
                attempts=1,
                created_at=now,
                updated_at=now,
                completed_at=now if status == "completed" else None,
            )
        )
    return video_id


# -- the ledger ----------------------------------------------------------------------------------


def entries_of(db: Database, video_id: str) -> list[tuple[str, str, int]]:
    """(reason, state, amount) of every credit entry of a row, oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(CreditEntry.reason, CreditEntry.state, CreditEntry.amount)
            .join(VideoGeneration, VideoGeneration.pk == CreditEntry.generation_pk)
            .where(VideoGeneration.id == video_id)
            .order_by(CreditEntry.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def month_totals(db: Database, business_id: str) -> tuple[int, int]:
    """(charged, held) of the business this month."""
    month = datetime.now(UTC).strftime("%Y-%m")
    with db.session() as session:
        found = session.execute(
            select(CreditMonth.charged, CreditMonth.held).where(
                CreditMonth.business_id == business_id, CreditMonth.month == month
            )
        ).one_or_none()
    return (int(found[0]), int(found[1])) if found else (0, 0)


def composite_rows(db: Database, business_id: str) -> list[VideoGeneration]:
    with db.session() as session:
        return list(
            session.scalars(
                select(VideoGeneration)
                .where(
                    VideoGeneration.business_id == business_id, VideoGeneration.kind == "composite"
                )
                .order_by(VideoGeneration.pk)
            )
        )


def poll_until_done(client: httpx.Client, token: str, timeout: float = 120) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        reply = client.get("/api/businesses/me/video/composite", params={"jobToken": token})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        return body if body["status"] != "processing" else None

    return wait_until(finished, timeout=timeout, every=0.2)


def wait_for_stage(
    worker: SignedClient, job_id: str, stages: set[str], timeout: float = 60
) -> dict:
    def reached() -> dict[str, Any] | None:
        reply = worker.status(job_id)
        if reply.status_code != 200:
            return None
        body = reply.json()
        return body if body.get("stage") in stages else None

    return wait_until(reached, timeout=timeout, every=0.02)


def job_id_of(composite_id: str) -> str:
    return "cmp_" + composite_id.removeprefix("vg_")
