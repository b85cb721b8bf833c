"""Helpers for the worker's tests: a signed client, a media server with misbehaving routes,
live workers (uvicorn in a thread, or `compositor serve` as a process) and polling."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn

from compositor.settings import Settings
from compositor.signing import sign_request
from compositor.worker.app import create_app
from compositor.worker.service import Services, build_services
from compositor.worker.settings import WorkerSettings

SECRET = "test-secret-current"
OLD_SECRET = "test-secret-previous"
LOOPBACK = "127.0.0.0/8,::1/128"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], Any], *, timeout: float = 60, every: float = 0.1) -> Any:
    """Poll until ``condition()`` is truthy and return it; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def preview_job(job_id: str, *sources: str, seconds: float = 5, **fields: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "jobId": job_id,
        "output": {"resolution": "preview", "durationSec": seconds},
        "clips": [{"source": source} for source in sources],
    }
    job.update(fields)
    return job


class SignedClient:
    """Sends requests signed as CONTRACT §6 says (or deliberately not)."""

    def __init__(self, base_url: str, secret: str = SECRET) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.http = httpx.Client(base_url=self.base_url, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signed_path: str | None = None,
        signed_body: bytes | None = None,
        sign: bool = True,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if body else {}
        if sign:
            headers |= sign_request(
                secret or self.secret,
                int(time.time()) if timestamp is None else timestamp,
                method,
                signed_path or path,
                body if signed_body is None else signed_body,
            )
        return self.http.request(method, path, content=body, headers=headers)

    def post(self, job: dict[str, Any], **options: Any) -> httpx.Response:
        return self.request("POST", "/compose", json.dumps(job).encode(), **options)

    def status(self, job_id: str) -> httpx.Response:
        return self.request("GET", f"/compose/{job_id}")

    def wait(self, job_id: str, timeout: float = 90) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            reply = self.status(job_id)
            assert reply.status_code == 200, reply.text
            body = reply.json()
            return body if body["status"] != "processing" else None

        return wait_until(finished, timeout=timeout, every=0.1)

    def close(self) -> None:
        self.http.close()


@dataclass
class LiveWorker:
    """A worker app served by uvicorn in a thread of the test process."""

    services: Services
    server: uvicorn.Server
    thread: threading.Thread
    base_url: str
    client: SignedClient

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.client.close()


def start_live_worker(data_dir: Path, settings: Settings, **overrides: Any) -> LiveWorker:
    port = free_port()
    values: dict[str, Any] = {
        "secrets": f"{SECRET},{OLD_SECRET}",
        "data_dir": data_dir,
        "port": port,
        "render_slots": 1,
        "fetch_allow_networks": LOOPBACK,
        "sweep_interval_sec": 3600,
        "callback_base_ms": 50,
    }
    values.update(overrides)
    services = build_services(WorkerSettings(**values), settings)
    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, every=0.02)
    base_url = f"http://127.0.0.1:{port}"
    return LiveWorker(services, server, thread, base_url, SignedClient(base_url))


@dataclass
class WorkerProcess:
    """`compositor serve` as its own process, as an operator runs it."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    client: SignedClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = SignedClient(self.base_url)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def kill_hard(self) -> None:
        """kill -9 of the worker and its FFmpeg children, as when a container dies."""
        children = child_pids(self.pid)
        os.kill(self.pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.client.close()


def child_pids(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may hold spaces and parentheses: fields after the last ')' are fixed
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            children.append(int(entry.name))
    return children


def start_worker_process(env: dict[str, str], log_path: Path) -> WorkerProcess:
    port = free_port()
    full_env = {
        **os.environ,
        "COMPOSITOR_SECRETS": f"{SECRET},{OLD_SECRET}",
        "COMPOSITOR_PORT": str(port),
        "COMPOSITOR_HOST": "127.0.0.1",
        "COMPOSITOR_PRESET": "ultrafast",
        "COMPOSITOR_FETCH_ALLOW_NETWORKS": LOOPBACK,
        "COMPOSITOR_RENDER_SLOTS": "1",
        **env,
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from compositor.cli import main; sys.exit(main())",
             "serve", "--log-level", "info"],
            env=full_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    worker = WorkerProcess(process, f"http://127.0.0.1:{port}", log_path)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"worker exited with {process.returncode}:\n{worker.log()}")
        try:
            return httpx.get(f"{worker.base_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=60, every=0.1)
    return worker


class MediaServer:
    """A local HTTP server of test media, with routes that misbehave on purpose.

    /media/<file>        the file
    /redirect?to=<url>   302 to the URL
    /slow?sec=<n>        headers only after n seconds
    /endless             a body without length that never stops (until the client leaves)
    /huge                a Content-Length far over any limit, and no body to speak of
    /hls.m3u8, /hls      an HLS playlist naming a local file and a segment on this server
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.playlist = ""
        self.stop_event = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for seen in self.requests if urlsplit(seen).path == path)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        try:
            if path.startswith("/media/") and (self.root / path[7:]).is_file():
                self._send(handler, 200, (self.root / path[7:]).read_bytes(), "video/mp4")
            elif path == "/redirect":
                handler.send_response(302)
                handler.send_header("Location", query["to"])
                handler.send_header("Content-Length", "0")
                handler.end_headers()
            elif path == "/slow":
                self.stop_event.wait(float(query.get("sec", "5")))
                self._send(handler, 200, b"late", "video/mp4")
            elif path == "/endless":
                handler.send_response(200)
                handler.send_header("Content-Type", "video/mp4")
                handler.end_headers()
                chunk = b"\0" * 65536
                for _ in range(10_000):  # bounded: 640 MB at most, the client stops far sooner
                    if self.stop_event.is_set():
                        break
                    handler.wfile.write(chunk)
            elif path == "/huge":
                handler.send_response(200)
                handler.send_header("Content-Length", str(50 << 30))
                handler.end_headers()
                handler.wfile.write(b"\0" * 1024)
            elif path in ("/hls.m3u8", "/hls"):
                self._send(handler, 200, self.playlist.encode(), "application/vnd.apple.mpegurl")
            else:
                self._send(handler, 404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes, kind: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def close(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
