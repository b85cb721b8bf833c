"""``make run``: the API and a compositor worker on one machine, on the embedded defaults.

SQLite, local storage, the in-process render queue, the local generator and local narration;
nothing needs the network. The script migrates the database, seeds a dev account, starts
``compositor serve`` and ``neariq serve`` (each in its own process group, logs under the data
folder), waits until both answer, prints the key, the login and example requests, and on
Ctrl-C (or SIGTERM) stops the API first, then the worker (which drains), then exits.

The request-signing secret shared by the two is generated into the data folder on the first
run (never committed: ``data/`` is ignored). The worker may fetch sources from the API's
loopback address only because this script allow-lists ``127.0.0.1/32`` for this local setup.

``make demo`` imports ``LocalStack`` to start the same services when none are running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "data" / "local"
STOP_TIMEOUT_SEC = 20.0
START_TIMEOUT_SEC = 90.0


class StackError(Exception):
    """Raised when a service cannot start or dies; the message is the one line to print."""


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        try:
            return httpx.get(self.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT_SEC) -> None:
        """SIGTERM to its process group, SIGKILL after ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def secret_file(path: Path) -> Path:
    """A random secret in ``path`` (made once, readable by this user only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        partial.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    return path


@dataclass
class LocalStack:
    data_dir: Path = DEFAULT_DATA
    api_port: int = 8000
    worker_port: int = 8080
    resolution: str = "full"
    preset: str | None = None
    seed: dict[str, Any] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.worker_port}"

    @property
    def run_file(self) -> Path:
        return self.data_dir / "run.json"

    def environment(self) -> dict[str, str]:
        secret = secret_file(self.data_dir / "secrets" / "compositor_secrets")
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("NEARIQ_", "COMPOSITOR_")) and key != "DATABASE_URL"
        }
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                # the API
                "NEARIQ_DATA_DIR": str(self.data_dir / "api"),
                "NEARIQ_PUBLIC_URL": self.api_url,
                "NEARIQ_RENDER_RESOLUTION": self.resolution,
                "NEARIQ_COMPOSITOR_URL": self.worker_url,
                "NEARIQ_COMPOSITOR_SECRETS_FILE": str(secret),
                # the worker
                "COMPOSITOR_DATA_DIR": str(self.data_dir / "compositor"),
                "COMPOSITOR_HOST": "127.0.0.1",
                "COMPOSITOR_PORT": str(self.worker_port),
                "COMPOSITOR_SECRETS_FILE": str(secret),
                # sources and callbacks come from the API on this machine's loopback only
                "COMPOSITOR_FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
                "COMPOSITOR_DRAIN_GRACE_SEC": "10",
            }
        )
        if self.preset:
            env["COMPOSITOR_PRESET"] = self.preset
        return env

    def prepare(self, env: dict[str, str]) -> None:
        """Migrate and seed (the dev account and a fresh key), through the CLI."""
        neariq = [sys.executable, "-m", "api.cli"]
        for argv in ([*neariq, "db", "upgrade"], [*neariq, "dev-seed", "--json"]):
            done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise StackError(f"`neariq {' '.join(argv[3:])}` failed: {last}")
        self.seed = json.loads(done.stdout)

    def start(self) -> None:
        for port in (self.api_port, self.worker_port):
            if port_in_use(port):
                raise StackError(f"port {port} is in use (is `make run` already running?)")
        env = self.environment()
        self.prepare(env)
        logs = self.data_dir / "logs"
        self.services = [
            Service(
                "worker",
                [sys.executable, "-m", "compositor.cli", "serve", "--log-level", "info"],
                env,
                logs / "worker.log",
                f"{self.worker_url}/readyz",
            ),
            Service(
                "API",
                [sys.executable, "-m", "api.cli", "serve", "--port", str(self.api_port)],
                env,
                logs / "api.log",
                f"{self.api_url}/api/health",
            ),
        ]
        try:
            for service in self.services:
                service.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        self.run_file.write_text(
            json.dumps(
                {
                    "apiUrl": self.api_url,
                    "workerUrl": self.worker_url,
                    "pid": os.getpid(),
                    **self.seed,
                }
            ),
            encoding="utf-8",
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SEC
        pending = list(self.services)
        while pending:
            self.check_alive()
            pending = [service for service in pending if not service.healthy()]
            if pending and time.monotonic() > deadline:
                names = ", ".join(service.name for service in pending)
                raise StackError(f"{names} did not become ready in {START_TIMEOUT_SEC:.0f} s")
            time.sleep(0.2)

    def check_alive(self) -> None:
        for service in self.services:
            if not service.alive():
                code = service.process.returncode if service.process else None
                raise StackError(
                    f"the {service.name} exited (code {code}); last lines of "
                    f"{service.log_path}:\n{service.log_tail()}"
                )

    def stop(self) -> None:
        """The API first (no new work), then the worker (it drains its render)."""
        for service in reversed(self.services):
            service.stop()
        with contextlib.suppress(OSError):
            self.run_file.unlink()

    def banner(self) -> str:
        key, email, password = self.seed["key"], self.seed["email"], self.seed["password"]
        base = self.api_url
        login = json.dumps({"email": email, "password": password})
        return "\n".join(
            [
                "NearIQ is running on the embedded defaults (Ctrl-C stops both).",
                f"  API      {base}    log {self.services[1].log_path}",
                f"  worker   {self.worker_url}    log {self.services[0].log_path}",
                f"  key      {key}",
                f"  login    {email} / {password}",
                "",
                "Try:",
                f"  curl -X POST {base}/api/v1/video -H 'X-NearIQ-Key: {key}' "
                "-H 'Content-Type: application/json' "
                '-d \'{"prompt": "Membership promo showing coaching, equipment, and happy '
                'members", "duration": "5"}\'',
                f"  curl '{base}/api/v1/video?limit=5' -H 'X-NearIQ-Key: {key}'",
                f"  curl -c cookies.txt -X POST {base}/api/auth/session -H 'Origin: {base}' "
                f"-H 'Content-Type: application/json' -d '{login}'",
                "",
                "Then the dashboard routes with -b cookies.txt -H 'Origin: " + base + "' "
                "(docs/api.md); `make demo` drives the whole flow.",
            ]
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@contextlib.contextmanager
def stop_signals() -> Iterator[list[int]]:
    """SIGINT and SIGTERM become a flag the supervisor loop reads."""
    received: list[int] = []

    def note(signum: int, _frame: Any) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data folder")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--worker-port", type=int, default=8080)
    parser.add_argument("--resolution", choices=["full", "preview"], default="full")
    parser.add_argument("--preset", help="x264 preset of the renders (default: the engine's)")
    args = parser.parse_args(argv)
    stack = LocalStack(
        args.data.resolve(), args.api_port, args.worker_port, args.resolution, args.preset
    )
    with stop_signals() as received:
        try:
            print("starting the compositor worker and the API...", flush=True)
            stack.start()
            print(stack.banner(), flush=True)
            while not received:
                stack.check_alive()
                time.sleep(0.3)
            print("\nstopping the API, then the worker...", flush=True)
        except StackError as error:
            print(f"Error: {error}", file=sys.stderr)
            stack.stop()
            return 1
        stack.stop()
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
