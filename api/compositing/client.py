"""The API's client of the compositor worker: signed requests (CONTRACT §6), answers as data.

Blocking (httpx), called from worker threads. The client does not interpret answers beyond
HTTP: ``WorkerAnswer`` carries the status code and JSON body, and failures to get an answer at
all are ``WorkerUnreachable``, which says whether the request may have been delivered (a read
timeout may mean the worker took the job; a refused connection means it did not).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from compositor.signing import sign_request

READY_TIMEOUT_SEC = 3.0


class WorkerUnreachable(Exception):
    """Raised when the worker gives no usable answer (connection, timeout, not JSON)."""

    def __init__(self, message: str, *, maybe_delivered: bool) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class OutputTooLarge(Exception):
    """Raised when a finished file is over the configured size limit."""


@dataclass(frozen=True)
class WorkerAnswer:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error_code(self) -> str | None:
        error = self.body.get("error")
        return str(error.get("code")) if isinstance(error, dict) else None


class CompositorClient:
    def __init__(
        self,
        base_url: str,
        secrets: tuple[str, ...],
        *,
        timeout_sec: float = 10.0,
        max_output_bytes: int = 2 << 30,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secrets:
            raise ValueError("the compositor client needs NEARIQ_COMPOSITOR_SECRETS")
        self.base_url = base_url.rstrip("/")
        self.base_path = urlsplit(self.base_url).path.rstrip("/")
        self.secret = secrets[0]
        self.max_output_bytes = max_output_bytes
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout_sec, connect=min(timeout_sec, 5.0)),
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # the worker is ours: no proxy between us
        )

    def close(self) -> None:
        self.http.close()

    # -- requests ---------------------------------------------------------------------------

    def ready(self) -> bool:
        """``GET /readyz`` with a short timeout: True when the worker takes jobs now."""
        try:
            reply = self.http.get(f"{self.base_url}/readyz", timeout=READY_TIMEOUT_SEC)
        except httpx.HTTPError:
            return False
        return reply.status_code == 200

    def submit(self, job: dict[str, Any]) -> WorkerAnswer:
        """``POST /compose``; the same body for the same ``jobId`` is idempotent."""
        raw = json.dumps(job, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self._send("POST", "/compose", raw)

    def status(self, job_id: str) -> WorkerAnswer:
        return self._send("GET", f"/compose/{job_id}", b"")

    def _send(self, method: str, path: str, body: bytes) -> WorkerAnswer:
        signed_path = self.base_path + path
        headers = sign_request(self.secret, int(time.time()), method, signed_path, body)
        if body:
            headers["Content-Type"] = "application/json"
        try:
            reply = self.http.request(method, self.base_url + path, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise WorkerUnreachable(f"cannot connect: {error}", maybe_delivered=False) from None
        except httpx.HTTPError as error:
            raise WorkerUnreachable(f"no answer: {error}", maybe_delivered=True) from None
        try:
            parsed = reply.json()
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise WorkerUnreachable(
                f"{method} {path}: HTTP {reply.status_code} without a JSON body",
                maybe_delivered=True,
            )
        return WorkerAnswer(reply.status_code, parsed, dict(reply.headers))

    # -- files -------------------------------------------------------------------------------

    def file_url(self, link: str) -> str:
        """A ``/composites/...`` link of the worker, re-based on the URL we reach it at (the
        worker builds links for its public URL, which this host may not route to)."""
        parts = urlsplit(link)
        at = parts.path.find("/composites/")
        if at < 0:
            raise ValueError(f"not a composites link: {parts.path}")
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path[at:]}{query}"

    def download(self, link: str, destination: Path) -> int:
        """Stream a finished file to ``destination``; redirects (S3 mode) are followed."""
        try:
            with self.http.stream("GET", self.file_url(link), follow_redirects=True) as reply:
                if reply.status_code != 200:
                    raise WorkerUnreachable(
                        f"file download answered HTTP {reply.status_code}", maybe_delivered=True
                    )
                size = 0
                with destination.open("wb") as out:
                    for chunk in reply.iter_bytes(1 << 20):
                        size += len(chunk)
                        if size > self.max_output_bytes:
                            raise OutputTooLarge(
                                f"the output is over {self.max_output_bytes} bytes"
                            )
                        out.write(chunk)
                return size
        except httpx.HTTPError as error:
            message = f"file download failed: {error}"
            raise WorkerUnreachable(message, maybe_delivered=True) from None
